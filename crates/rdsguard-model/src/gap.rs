//! Gaps: API calls that failed during collection, and so facts the snapshot does not know.

use serde::{Deserialize, Serialize};

/// One API operation, named as AWS names it (service prefix as in IAM actions, operation as in
/// the API reference), e.g. `rds` / `DescribeDBInstances`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Op {
    pub service: &'static str,
    pub operation: &'static str,
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.service, self.operation)
    }
}

/// Why a call failed, in a form checks and users can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    /// AccessDenied, UnauthorizedOperation and the like: grant the permission and re-run.
    AccessDenied,
    /// Throttled past the retry budget.
    Throttled,
    /// The region is not enabled or the service is not available there.
    RegionDisabled,
    /// The endpoint does not implement the operation (emulators, partitions without it).
    Unsupported,
    /// The service is not enabled in the account (e.g. Security Hub not subscribed).
    NotEnabled,
    /// Network failure, timeout, unparseable answer, or any other error.
    Error,
}

/// A failed collection call. `resource` is set when only the call for one resource failed
/// (e.g. the parameters of one parameter group); without it the whole operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Gap {
    pub service: String,
    pub operation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    pub kind: GapKind,
    /// The service's error code when there was one (e.g. `AccessDenied`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// A one-line message; never contains credentials.
    pub message: String,
}

impl Gap {
    pub fn new(op: Op, region: Option<&str>, kind: GapKind, message: impl Into<String>) -> Self {
        Gap {
            service: op.service.to_string(),
            operation: op.operation.to_string(),
            region: region.map(str::to_string),
            resource: None,
            kind,
            error_code: None,
            message: message.into(),
        }
    }

    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    pub fn with_error_code(mut self, code: impl Into<String>) -> Self {
        self.error_code = Some(code.into());
        self
    }

    pub fn op_name(&self) -> String {
        format!("{}:{}", self.service, self.operation)
    }

    /// A short human explanation, used as the reason of NOT_ASSESSED results.
    pub fn describe(&self) -> String {
        let what = match self.kind {
            GapKind::AccessDenied => "access denied",
            GapKind::Throttled => "throttled past the retry budget",
            GapKind::RegionDisabled => "region not enabled",
            GapKind::Unsupported => "operation not supported by the endpoint",
            GapKind::NotEnabled => "service not enabled",
            GapKind::Error => "call failed",
        };
        let mut s = format!("{}:{} {}", self.service, self.operation, what);
        if let Some(r) = &self.resource {
            s.push_str(&format!(" for {r}"));
        }
        if let Some(region) = &self.region {
            s.push_str(&format!(" in {region}"));
        }
        if let Some(code) = &self.error_code {
            s.push_str(&format!(" ({code})"));
        }
        s
    }
}

/// Every operation the collector makes, so checks can name their dependencies exactly.
pub mod ops {
    use super::Op;

    const fn op(service: &'static str, operation: &'static str) -> Op {
        Op { service, operation }
    }

    pub const STS_GET_CALLER_IDENTITY: Op = op("sts", "GetCallerIdentity");
    pub const EC2_DESCRIBE_REGIONS: Op = op("ec2", "DescribeRegions");

    pub const RDS_DESCRIBE_DB_INSTANCES: Op = op("rds", "DescribeDBInstances");
    pub const RDS_DESCRIBE_DB_CLUSTERS: Op = op("rds", "DescribeDBClusters");
    pub const RDS_DESCRIBE_DB_SNAPSHOTS: Op = op("rds", "DescribeDBSnapshots");
    pub const RDS_DESCRIBE_DB_SNAPSHOT_ATTRIBUTES: Op = op("rds", "DescribeDBSnapshotAttributes");
    pub const RDS_DESCRIBE_DB_CLUSTER_SNAPSHOTS: Op = op("rds", "DescribeDBClusterSnapshots");
    pub const RDS_DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES: Op =
        op("rds", "DescribeDBClusterSnapshotAttributes");
    pub const RDS_DESCRIBE_DB_PARAMETER_GROUPS: Op = op("rds", "DescribeDBParameterGroups");
    pub const RDS_DESCRIBE_DB_PARAMETERS: Op = op("rds", "DescribeDBParameters");
    pub const RDS_DESCRIBE_DB_CLUSTER_PARAMETER_GROUPS: Op =
        op("rds", "DescribeDBClusterParameterGroups");
    pub const RDS_DESCRIBE_DB_CLUSTER_PARAMETERS: Op = op("rds", "DescribeDBClusterParameters");
    pub const RDS_DESCRIBE_OPTION_GROUPS: Op = op("rds", "DescribeOptionGroups");
    pub const RDS_DESCRIBE_DB_SUBNET_GROUPS: Op = op("rds", "DescribeDBSubnetGroups");
    pub const RDS_DESCRIBE_DB_PROXIES: Op = op("rds", "DescribeDBProxies");
    pub const RDS_DESCRIBE_EVENT_SUBSCRIPTIONS: Op = op("rds", "DescribeEventSubscriptions");
    pub const RDS_DESCRIBE_CERTIFICATES: Op = op("rds", "DescribeCertificates");
    pub const RDS_DESCRIBE_DB_ENGINE_VERSIONS: Op = op("rds", "DescribeDBEngineVersions");
    /// Only for resources whose Describe call returns no tags (DB subnet groups).
    pub const RDS_LIST_TAGS_FOR_RESOURCE: Op = op("rds", "ListTagsForResource");

    pub const EC2_DESCRIBE_VPCS: Op = op("ec2", "DescribeVpcs");
    pub const EC2_DESCRIBE_SUBNETS: Op = op("ec2", "DescribeSubnets");
    pub const EC2_DESCRIBE_ROUTE_TABLES: Op = op("ec2", "DescribeRouteTables");
    pub const EC2_DESCRIBE_INTERNET_GATEWAYS: Op = op("ec2", "DescribeInternetGateways");
    pub const EC2_DESCRIBE_EGRESS_ONLY_INTERNET_GATEWAYS: Op =
        op("ec2", "DescribeEgressOnlyInternetGateways");
    pub const EC2_DESCRIBE_NAT_GATEWAYS: Op = op("ec2", "DescribeNatGateways");
    pub const EC2_DESCRIBE_NETWORK_ACLS: Op = op("ec2", "DescribeNetworkAcls");
    pub const EC2_DESCRIBE_SECURITY_GROUPS: Op = op("ec2", "DescribeSecurityGroups");
    pub const EC2_DESCRIBE_MANAGED_PREFIX_LISTS: Op = op("ec2", "DescribeManagedPrefixLists");
    pub const EC2_GET_MANAGED_PREFIX_LIST_ENTRIES: Op = op("ec2", "GetManagedPrefixListEntries");
    pub const EC2_DESCRIBE_NETWORK_INTERFACES: Op = op("ec2", "DescribeNetworkInterfaces");
    pub const EC2_DESCRIBE_VPC_PEERING_CONNECTIONS: Op = op("ec2", "DescribeVpcPeeringConnections");

    pub const KMS_LIST_KEYS: Op = op("kms", "ListKeys");
    pub const KMS_LIST_ALIASES: Op = op("kms", "ListAliases");
    pub const KMS_DESCRIBE_KEY: Op = op("kms", "DescribeKey");
    pub const KMS_GET_KEY_ROTATION_STATUS: Op = op("kms", "GetKeyRotationStatus");
    pub const KMS_GET_KEY_POLICY: Op = op("kms", "GetKeyPolicy");
    pub const KMS_LIST_GRANTS: Op = op("kms", "ListGrants");

    pub const IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS: Op =
        op("iam", "GetAccountAuthorizationDetails");

    pub const CLOUDTRAIL_DESCRIBE_TRAILS: Op = op("cloudtrail", "DescribeTrails");
    pub const CLOUDTRAIL_GET_TRAIL_STATUS: Op = op("cloudtrail", "GetTrailStatus");
    pub const CLOUDTRAIL_GET_EVENT_SELECTORS: Op = op("cloudtrail", "GetEventSelectors");

    pub const SECURITYHUB_DESCRIBE_HUB: Op = op("securityhub", "DescribeHub");
    pub const SECURITYHUB_GET_ENABLED_STANDARDS: Op = op("securityhub", "GetEnabledStandards");

    pub const BACKUP_LIST_PROTECTED_RESOURCES: Op = op("backup", "ListProtectedResources");

    /// Organization scanning (`--org`) only; the management (or delegated administrator)
    /// account's view of the organization. Failures are gaps in `OrganizationData::gaps`.
    pub const ORGANIZATIONS_DESCRIBE_ORGANIZATION: Op = op("organizations", "DescribeOrganization");
    pub const ORGANIZATIONS_LIST_ROOTS: Op = op("organizations", "ListRoots");
    pub const ORGANIZATIONS_LIST_ACCOUNTS: Op = op("organizations", "ListAccounts");
    pub const ORGANIZATIONS_LIST_ORGANIZATIONAL_UNITS_FOR_PARENT: Op =
        op("organizations", "ListOrganizationalUnitsForParent");
    pub const ORGANIZATIONS_LIST_ACCOUNTS_FOR_PARENT: Op =
        op("organizations", "ListAccountsForParent");
    pub const ORGANIZATIONS_LIST_POLICIES: Op = op("organizations", "ListPolicies");
    pub const ORGANIZATIONS_DESCRIBE_POLICY: Op = op("organizations", "DescribePolicy");
    pub const ORGANIZATIONS_LIST_TARGETS_FOR_POLICY: Op =
        op("organizations", "ListTargetsForPolicy");
    /// Into each member account (`--org`); its failure is an account gap and the account is
    /// reported as not assessed.
    pub const STS_ASSUME_ROLE: Op = op("sts", "AssumeRole");
    /// Not an AWS call: the collection of one account as a whole, recorded as an account gap
    /// when it did not finish within its deadline (`--account-timeout`).
    pub const RDSGUARD_COLLECT_ACCOUNT: Op = op("rdsguard", "CollectAccount");

    /// The operations of organization scanning. Kept out of [`ALL`]: a single-account
    /// collection never makes them (the denied-permissions test denies each of [`ALL`] in a
    /// single-account run).
    pub const ORG: &[Op] = &[
        ORGANIZATIONS_DESCRIBE_ORGANIZATION,
        ORGANIZATIONS_LIST_ROOTS,
        ORGANIZATIONS_LIST_ACCOUNTS,
        ORGANIZATIONS_LIST_ORGANIZATIONAL_UNITS_FOR_PARENT,
        ORGANIZATIONS_LIST_ACCOUNTS_FOR_PARENT,
        ORGANIZATIONS_LIST_POLICIES,
        ORGANIZATIONS_DESCRIBE_POLICY,
        ORGANIZATIONS_LIST_TARGETS_FOR_POLICY,
        STS_ASSUME_ROLE,
        RDSGUARD_COLLECT_ACCOUNT,
    ];

    /// Every operation of a single-account collection, for the denied-permissions test and
    /// documentation (organization scanning adds [`ORG`]).
    pub const ALL: &[Op] = &[
        STS_GET_CALLER_IDENTITY,
        EC2_DESCRIBE_REGIONS,
        RDS_DESCRIBE_DB_INSTANCES,
        RDS_DESCRIBE_DB_CLUSTERS,
        RDS_DESCRIBE_DB_SNAPSHOTS,
        RDS_DESCRIBE_DB_SNAPSHOT_ATTRIBUTES,
        RDS_DESCRIBE_DB_CLUSTER_SNAPSHOTS,
        RDS_DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES,
        RDS_DESCRIBE_DB_PARAMETER_GROUPS,
        RDS_DESCRIBE_DB_PARAMETERS,
        RDS_DESCRIBE_DB_CLUSTER_PARAMETER_GROUPS,
        RDS_DESCRIBE_DB_CLUSTER_PARAMETERS,
        RDS_DESCRIBE_OPTION_GROUPS,
        RDS_DESCRIBE_DB_SUBNET_GROUPS,
        RDS_DESCRIBE_DB_PROXIES,
        RDS_DESCRIBE_EVENT_SUBSCRIPTIONS,
        RDS_DESCRIBE_CERTIFICATES,
        RDS_DESCRIBE_DB_ENGINE_VERSIONS,
        RDS_LIST_TAGS_FOR_RESOURCE,
        EC2_DESCRIBE_VPCS,
        EC2_DESCRIBE_SUBNETS,
        EC2_DESCRIBE_ROUTE_TABLES,
        EC2_DESCRIBE_INTERNET_GATEWAYS,
        EC2_DESCRIBE_EGRESS_ONLY_INTERNET_GATEWAYS,
        EC2_DESCRIBE_NAT_GATEWAYS,
        EC2_DESCRIBE_NETWORK_ACLS,
        EC2_DESCRIBE_SECURITY_GROUPS,
        EC2_DESCRIBE_MANAGED_PREFIX_LISTS,
        EC2_GET_MANAGED_PREFIX_LIST_ENTRIES,
        EC2_DESCRIBE_NETWORK_INTERFACES,
        EC2_DESCRIBE_VPC_PEERING_CONNECTIONS,
        KMS_LIST_KEYS,
        KMS_LIST_ALIASES,
        KMS_DESCRIBE_KEY,
        KMS_GET_KEY_ROTATION_STATUS,
        KMS_GET_KEY_POLICY,
        KMS_LIST_GRANTS,
        IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS,
        CLOUDTRAIL_DESCRIBE_TRAILS,
        CLOUDTRAIL_GET_TRAIL_STATUS,
        CLOUDTRAIL_GET_EVENT_SELECTORS,
        SECURITYHUB_DESCRIBE_HUB,
        SECURITYHUB_GET_ENABLED_STANDARDS,
        BACKUP_LIST_PROTECTED_RESOURCES,
    ];

    /// Look an operation up by its `service:Operation` name ([`ALL`] and [`ORG`]).
    pub fn by_name(name: &str) -> Option<Op> {
        ALL.iter().chain(ORG).copied().find(|o| {
            name.split_once(':')
                .is_some_and(|(s, op)| s.eq_ignore_ascii_case(o.service) && op == o.operation)
        })
    }
}
