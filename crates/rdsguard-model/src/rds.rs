//! Amazon RDS facts: instances, clusters, snapshots, parameter and option groups, subnet groups,
//! proxies, event subscriptions, CA certificates and engine versions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Tags;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RdsData {
    #[serde(default)]
    pub db_instances: Vec<DbInstance>,
    #[serde(default)]
    pub db_clusters: Vec<DbCluster>,
    #[serde(default)]
    pub db_snapshots: Vec<DbSnapshot>,
    #[serde(default)]
    pub db_cluster_snapshots: Vec<DbSnapshot>,
    /// Instance parameter groups (DescribeDBParameterGroups + DescribeDBParameters).
    #[serde(default)]
    pub db_parameter_groups: Vec<ParameterGroup>,
    /// Cluster parameter groups (DescribeDBClusterParameterGroups + ...Parameters).
    #[serde(default)]
    pub db_cluster_parameter_groups: Vec<ParameterGroup>,
    #[serde(default)]
    pub option_groups: Vec<OptionGroup>,
    #[serde(default)]
    pub db_subnet_groups: Vec<DbSubnetGroup>,
    #[serde(default)]
    pub db_proxies: Vec<DbProxy>,
    #[serde(default)]
    pub event_subscriptions: Vec<EventSubscription>,
    /// CA certificates offered by RDS in the region (DescribeCertificates).
    #[serde(default)]
    pub certificates: Vec<CaCertificate>,
    /// Engine versions RDS currently offers (DescribeDBEngineVersions), used to find
    /// deprecated versions. Only the engines in use are collected.
    #[serde(default)]
    pub engine_versions: Vec<EngineVersion>,
}

/// A VPC security group membership as RDS reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VpcSecurityGroupMembership {
    pub vpc_security_group_id: String,
    /// `active`, `adding`, `removing`...
    #[serde(default)]
    pub status: String,
}

/// A parameter or option group attached to an instance, with its apply status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GroupMembership {
    pub name: String,
    /// `in-sync`, `pending-reboot`, `applying`... for parameter groups; `in-sync`/`pending-apply`
    /// for option groups.
    #[serde(default)]
    pub status: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DbInstance {
    pub db_instance_identifier: String,
    pub db_instance_arn: String,
    #[serde(default)]
    pub dbi_resource_id: Option<String>,
    pub engine: String,
    #[serde(default)]
    pub engine_version: String,
    #[serde(default)]
    pub db_instance_class: String,
    #[serde(default)]
    pub db_instance_status: String,
    /// Set for Aurora and Multi-AZ DB cluster members: many settings then live on the cluster.
    #[serde(default)]
    pub db_cluster_identifier: Option<String>,
    #[serde(default)]
    pub publicly_accessible: bool,
    #[serde(default)]
    pub storage_encrypted: bool,
    /// ARN of the KMS key encrypting storage, when encrypted.
    #[serde(default)]
    pub kms_key_id: Option<String>,
    #[serde(default)]
    pub endpoint_address: Option<String>,
    /// The port the database listens on (Endpoint.Port, or DbInstancePort while creating).
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub vpc_id: Option<String>,
    #[serde(default)]
    pub db_subnet_group_name: Option<String>,
    #[serde(default)]
    pub vpc_security_groups: Vec<VpcSecurityGroupMembership>,
    /// Legacy EC2-Classic DB security groups (only on very old instances).
    #[serde(default)]
    pub db_security_groups: Vec<String>,
    #[serde(default)]
    pub db_parameter_groups: Vec<GroupMembership>,
    #[serde(default)]
    pub option_group_memberships: Vec<GroupMembership>,
    #[serde(default)]
    pub multi_az: bool,
    #[serde(default)]
    pub availability_zone: Option<String>,
    #[serde(default)]
    pub backup_retention_period: i32,
    #[serde(default)]
    pub deletion_protection: bool,
    #[serde(default)]
    pub iam_database_authentication_enabled: bool,
    #[serde(default)]
    pub auto_minor_version_upgrade: bool,
    #[serde(default)]
    pub enabled_cloudwatch_logs_exports: Vec<String>,
    /// Enhanced Monitoring interval in seconds; 0 or absent means off.
    #[serde(default)]
    pub monitoring_interval: Option<i32>,
    #[serde(default)]
    pub enhanced_monitoring_resource_arn: Option<String>,
    #[serde(default)]
    pub copy_tags_to_snapshot: bool,
    #[serde(default)]
    pub master_username: Option<String>,
    /// True when RDS manages the master password in Secrets Manager.
    #[serde(default)]
    pub manage_master_user_password: bool,
    #[serde(default)]
    pub ca_certificate_identifier: Option<String>,
    /// RFC 3339 expiry of the server certificate (CertificateDetails.ValidTill).
    #[serde(default)]
    pub certificate_valid_till: Option<String>,
    #[serde(default)]
    pub performance_insights_enabled: bool,
    #[serde(default)]
    pub performance_insights_kms_key_id: Option<String>,
    /// `open-source-rds-extended-support` when enrolled in Extended Support.
    #[serde(default)]
    pub engine_lifecycle_support: Option<String>,
    /// Identifier of the source when this instance is a read replica.
    #[serde(default)]
    pub read_replica_source_db_instance_identifier: Option<String>,
    #[serde(default)]
    pub read_replica_source_db_cluster_identifier: Option<String>,
    #[serde(default)]
    pub storage_type: Option<String>,
    #[serde(default)]
    pub instance_create_time: Option<String>,
    #[serde(default)]
    pub tags: Tags,
}

impl DbInstance {
    pub fn is_cluster_member(&self) -> bool {
        self.db_cluster_identifier.is_some()
    }

    pub fn is_read_replica(&self) -> bool {
        self.read_replica_source_db_instance_identifier.is_some()
            || self.read_replica_source_db_cluster_identifier.is_some()
    }

    pub fn security_group_ids(&self) -> impl Iterator<Item = &str> {
        self.vpc_security_groups
            .iter()
            .map(|m| m.vpc_security_group_id.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClusterMember {
    pub db_instance_identifier: String,
    #[serde(default)]
    pub is_cluster_writer: bool,
    #[serde(default)]
    pub db_cluster_parameter_group_status: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DbCluster {
    pub db_cluster_identifier: String,
    pub db_cluster_arn: String,
    pub engine: String,
    #[serde(default)]
    pub engine_version: String,
    /// `provisioned`, `serverless`, `parallelquery`, `global`, `multimaster`.
    #[serde(default)]
    pub engine_mode: Option<String>,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub members: Vec<ClusterMember>,
    #[serde(default)]
    pub multi_az: bool,
    #[serde(default)]
    pub availability_zones: Vec<String>,
    #[serde(default)]
    pub storage_encrypted: bool,
    #[serde(default)]
    pub kms_key_id: Option<String>,
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub reader_endpoint: Option<String>,
    #[serde(default)]
    pub port: Option<u16>,
    /// Only Multi-AZ DB clusters carry this; Aurora decides per member instance.
    #[serde(default)]
    pub publicly_accessible: Option<bool>,
    #[serde(default)]
    pub vpc_security_groups: Vec<VpcSecurityGroupMembership>,
    #[serde(default)]
    pub db_subnet_group: Option<String>,
    #[serde(default)]
    pub db_cluster_parameter_group: Option<String>,
    #[serde(default)]
    pub backup_retention_period: i32,
    #[serde(default)]
    pub deletion_protection: bool,
    #[serde(default)]
    pub iam_database_authentication_enabled: bool,
    #[serde(default)]
    pub enabled_cloudwatch_logs_exports: Vec<String>,
    #[serde(default)]
    pub copy_tags_to_snapshot: bool,
    #[serde(default)]
    pub master_username: Option<String>,
    #[serde(default)]
    pub manage_master_user_password: bool,
    /// Aurora MySQL backtrack target window in seconds; absent or 0 means off.
    #[serde(default)]
    pub backtrack_window: Option<i64>,
    /// Only Multi-AZ DB clusters carry this.
    #[serde(default)]
    pub auto_minor_version_upgrade: Option<bool>,
    /// Set for Multi-AZ DB clusters (non-Aurora), which have a cluster-level instance class.
    #[serde(default)]
    pub db_cluster_instance_class: Option<String>,
    #[serde(default)]
    pub global_cluster_identifier: Option<String>,
    #[serde(default)]
    pub monitoring_interval: Option<i32>,
    #[serde(default)]
    pub engine_lifecycle_support: Option<String>,
    #[serde(default)]
    pub activity_stream_status: Option<String>,
    #[serde(default)]
    pub tags: Tags,
}

impl DbCluster {
    /// Aurora clusters have engines named `aurora*`; others are Multi-AZ DB clusters.
    pub fn is_aurora(&self) -> bool {
        self.engine.starts_with("aurora")
    }

    pub fn security_group_ids(&self) -> impl Iterator<Item = &str> {
        self.vpc_security_groups
            .iter()
            .map(|m| m.vpc_security_group_id.as_str())
    }
}

/// Who may restore a snapshot (`DescribeDB[Cluster]SnapshotAttributes`, attribute `restore`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RestoreAttribute {
    /// `all` is among the values: anyone may restore it.
    pub public: bool,
    /// Account ids the snapshot is shared with.
    #[serde(default)]
    pub shared_with: Vec<String>,
}

/// An instance snapshot or a cluster snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DbSnapshot {
    pub identifier: String,
    pub arn: String,
    /// The DB instance or cluster the snapshot was taken from.
    #[serde(default)]
    pub source_identifier: Option<String>,
    #[serde(default)]
    pub engine: String,
    #[serde(default)]
    pub engine_version: Option<String>,
    /// `manual`, `automated`, `shared`, `public`, `awsbackup`.
    #[serde(default)]
    pub snapshot_type: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub encrypted: bool,
    #[serde(default)]
    pub kms_key_id: Option<String>,
    #[serde(default)]
    pub snapshot_create_time: Option<String>,
    /// `None` when the attributes were not collected (automated snapshots cannot be shared, or
    /// the call failed: see the region's gaps).
    #[serde(default)]
    pub restore: Option<RestoreAttribute>,
    #[serde(default)]
    pub tags: Tags,
}

impl DbSnapshot {
    pub fn is_automated(&self) -> bool {
        self.snapshot_type == "automated"
    }
}

/// A parameter's value as RDS reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Parameter {
    /// `None` when the parameter has no value set (engine default with no value).
    #[serde(default)]
    pub value: Option<String>,
    /// `user`, `system` or `engine-default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// `static` or `dynamic`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ParameterGroup {
    pub name: String,
    #[serde(default)]
    pub arn: Option<String>,
    /// e.g. `postgres16`, `aurora-mysql8.0`, `sqlserver-se-16.0`.
    #[serde(default)]
    pub family: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Security-relevant parameters only (see [`SECURITY_PARAMETERS`]), by name.
    /// Absent means the API did not report the parameter.
    #[serde(default)]
    pub parameters: BTreeMap<String, Parameter>,
}

impl ParameterGroup {
    /// Default groups are owned by AWS and cannot be modified.
    pub fn is_default(&self) -> bool {
        self.name.starts_with("default.")
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        self.parameters.get(name).and_then(|p| p.value.as_deref())
    }
}

/// Parameters the collector keeps. Everything about TLS, authentication and audit logging,
/// for every engine family. Matching is exact and case-sensitive, as RDS names them.
pub const SECURITY_PARAMETERS: &[&str] = &[
    // TLS enforcement and versions
    "rds.force_ssl",
    "require_secure_transport",
    "ssl",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "ssl_ciphers",
    "ssl_cipher",
    "tls_version",
    "rds.tls10",
    "rds.tls11",
    "rds.tls12",
    "rds.rc4",
    "rds.3des168",
    "rds.diffie-hellman",
    "rds.diffie-hellman-min-key-bit-length",
    "db2comm",
    "ssl_svcename",
    // authentication
    "password_encryption",
    "rds.accepted_password_auth_method",
    "rds.restrict_password_commands",
    "default_authentication_plugin",
    "authentication_policy",
    // audit and logging
    "log_connections",
    "log_disconnections",
    "log_statement",
    "log_min_duration_statement",
    "pgaudit.log",
    "pgaudit.role",
    "shared_preload_libraries",
    "server_audit_logging",
    "server_audit_events",
    "server_audit_excl_users",
    "general_log",
    "slow_query_log",
    "log_output",
    "rds.sqlserver_audit",
    "rds.log_retention_period",
    "log_error_verbosity",
    "local_infile",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OptionSetting {
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OptionGroupOption {
    /// e.g. `TDE`, `TDE_HSM`, `NATIVE_NETWORK_ENCRYPTION`, `SSL`, `TRANSPARENT_DATA_ENCRYPTION`.
    pub option_name: String,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub vpc_security_group_ids: Vec<String>,
    #[serde(default)]
    pub settings: Vec<OptionSetting>,
}

impl OptionGroupOption {
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.value.as_deref())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OptionGroup {
    pub name: String,
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub engine_name: String,
    #[serde(default)]
    pub major_engine_version: String,
    #[serde(default)]
    pub options: Vec<OptionGroupOption>,
}

impl OptionGroup {
    pub fn option(&self, name: &str) -> Option<&OptionGroupOption> {
        self.options.iter().find(|o| o.option_name == name)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DbSubnetGroup {
    pub name: String,
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub vpc_id: Option<String>,
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    #[serde(default)]
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProxyAuth {
    /// `SECRETS`.
    #[serde(default)]
    pub auth_scheme: Option<String>,
    /// `REQUIRED` or `DISABLED`.
    #[serde(default)]
    pub iam_auth: Option<String>,
    /// Client password authentication type, e.g. `POSTGRES_SCRAM_SHA_256`.
    #[serde(default)]
    pub client_password_auth_type: Option<String>,
    /// The Secrets Manager secret ARN (a reference, not the secret).
    #[serde(default)]
    pub secret_arn: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DbProxy {
    pub name: String,
    pub arn: String,
    /// `MYSQL`, `POSTGRESQL`, `SQLSERVER`.
    #[serde(default)]
    pub engine_family: String,
    #[serde(default)]
    pub require_tls: bool,
    #[serde(default)]
    pub vpc_id: Option<String>,
    #[serde(default)]
    pub vpc_security_group_ids: Vec<String>,
    #[serde(default)]
    pub vpc_subnet_ids: Vec<String>,
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub auth: Vec<ProxyAuth>,
    #[serde(default)]
    pub debug_logging: bool,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EventSubscription {
    pub name: String,
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub sns_topic_arn: Option<String>,
    /// `db-instance`, `db-cluster`, `db-parameter-group`, `db-security-group`, ...; `None` means
    /// all source types.
    #[serde(default)]
    pub source_type: Option<String>,
    /// Empty means all sources of the type.
    #[serde(default)]
    pub source_ids: Vec<String>,
    /// Empty means all categories.
    #[serde(default)]
    pub event_categories: Vec<String>,
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CaCertificate {
    pub certificate_identifier: String,
    #[serde(default)]
    pub certificate_type: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    pub valid_from: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    pub valid_till: Option<String>,
    #[serde(default)]
    pub customer_override: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EngineVersion {
    pub engine: String,
    pub engine_version: String,
    /// `available` or `deprecated`.
    #[serde(default)]
    pub status: Option<String>,
}
