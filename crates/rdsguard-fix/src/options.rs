//! What the user asks the planner for: which findings, which databases, and the choices a
//! remediation cannot guess (allowed sources, key administrators, target CA...).

use serde::{Deserialize, Serialize};

/// The CA instances are moved to when theirs is obsolete or expiring.
pub const DEFAULT_CA: &str = "rds-ca-rsa2048-g1";
/// The alias of the customer managed key the encryption remediation creates (or reuses).
pub const DEFAULT_KMS_ALIAS: &str = "alias/rdsguard-rds";

/// A principal type for the IAM remediation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IamPrincipal {
    User(String),
    /// A role, with the service or account its trust policy lets assume it (e.g.
    /// `ec2.amazonaws.com` or an account id).
    Role {
        name: String,
        trusted: String,
    },
}

/// Create the least-privilege, instance-specific policy `rdsguard iam policy` generates and
/// attach it to a user or role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamGrant {
    /// DB instance identifier (resolved in the snapshot) or ARN.
    pub db: String,
    pub actions: Vec<String>,
    pub principal: IamPrincipal,
    pub require_encryption: bool,
    pub kms_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixOptions {
    /// Check ids (`*` wildcards) to fix; empty = every check with a remediation.
    pub checks: Vec<String>,
    /// Resource identifiers or ARNs (DB instances, clusters, snapshots) to fix; empty = all.
    pub dbs: Vec<String>,
    /// CIDRs the dedicated security group allows on the database port. With neither this nor
    /// `allow_security_groups`, the non-internet sources already allowed are carried over.
    pub allow_cidrs: Vec<String>,
    /// Security group ids the dedicated group allows on the database port.
    pub allow_security_groups: Vec<String>,
    /// CIDRs the dedicated group allows outbound (TCP); empty = the VPC's own CIDR blocks.
    pub egress_cidrs: Vec<String>,
    /// Backup retention set when it is below the minimum (rdsguard.toml).
    pub min_backup_retention_days: i32,
    /// Accounts snapshots may stay shared with (rdsguard.toml).
    pub trusted_accounts: Vec<String>,
    /// The CA to move instances to.
    pub ca_certificate: String,
    /// Reboot instances whose new parameter group waits for a reboot (off: the plan says a
    /// reboot is pending and the user chooses the maintenance window).
    pub reboot: bool,
    /// Alias of the customer managed key to create or reuse.
    pub kms_alias: String,
    /// Use this existing key (ARN) instead of creating one.
    pub kms_key: Option<String>,
    /// Principals (ARNs) that administer the new key; empty = the account root (IAM decides).
    pub key_admins: Vec<String>,
    /// Principals (ARNs) that may use the key through RDS (kms:GenerateDataKey and friends).
    pub key_users: Vec<String>,
    pub iam: Option<IamGrant>,
}

impl Default for FixOptions {
    fn default() -> Self {
        FixOptions {
            checks: Vec::new(),
            dbs: Vec::new(),
            allow_cidrs: Vec::new(),
            allow_security_groups: Vec::new(),
            egress_cidrs: Vec::new(),
            min_backup_retention_days: 7,
            trusted_accounts: Vec::new(),
            ca_certificate: DEFAULT_CA.to_string(),
            reboot: false,
            kms_alias: DEFAULT_KMS_ALIAS.to_string(),
            kms_key: None,
            key_admins: Vec::new(),
            key_users: Vec::new(),
            iam: None,
        }
    }
}

impl FixOptions {
    /// Options with the thresholds of an rdsguard.toml configuration.
    pub fn from_config(config: &rdsguard_checks::Config) -> FixOptions {
        FixOptions {
            min_backup_retention_days: config.min_backup_retention_days,
            trusted_accounts: config.trusted_accounts.clone(),
            ..FixOptions::default()
        }
    }
}
