//! `rdsguard.toml`: thresholds, trusted accounts and suppressions.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Settings that change what checks consider a failure. Every field has a documented default,
/// so an empty file (or none) is a valid configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Accounts snapshots may be shared with. The audited accounts themselves are always
    /// trusted.
    pub trusted_accounts: Vec<String>,
    /// Minimum automated backup retention in days (FSBP RDS.11 / RDS.50 default: 7).
    pub min_backup_retention_days: i32,
    /// A CA or server certificate expiring within this many days fails.
    pub certificate_expiry_days: i64,
    /// Minimum acceptable TLS version, as `1.2` or `1.3`.
    pub min_tls_version: String,
    /// Master usernames considered default (RDS.24 / RDS.25).
    pub default_master_usernames: Vec<String>,
    /// Maximum Enhanced Monitoring interval in seconds that passes (FSBP RDS.6 param).
    pub max_monitoring_interval_seconds: i32,
    /// An IPv4 source block (in the minimal CIDR form of a database's allowed sources) with a
    /// prefix shorter than this fails `rds_security_group_broad_cidr`. Default 16 (0-32).
    pub max_source_prefix_v4: u8,
    /// The same for IPv6. Default 48 (0-128).
    pub max_source_prefix_v6: u8,
    /// Tag keys every RDS cluster, instance, snapshot and subnet group must carry (FSBP
    /// RDS.28-RDS.33 `requiredTagKeys`, case-sensitive). Empty (default): at least one tag
    /// other than AWS system tags (`aws:` prefix).
    pub required_tag_keys: Vec<String>,
    /// Thresholds of the IAM checks (`[iam]` table): how many principals is too many.
    pub iam: crate::checks::iam::IamThresholds,
    /// Check ids to skip entirely.
    pub disabled_checks: Vec<String>,
    /// Findings to suppress, each with a reason and optionally an expiry date.
    pub suppressions: Vec<SuppressionRule>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            trusted_accounts: Vec::new(),
            min_backup_retention_days: 7,
            certificate_expiry_days: 90,
            min_tls_version: "1.2".to_string(),
            default_master_usernames: [
                "admin",
                "postgres",
                "root",
                "sa",
                "master",
                "administrator",
                "rdsadmin",
                "awsuser",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            max_monitoring_interval_seconds: 60,
            max_source_prefix_v4: 16,
            max_source_prefix_v6: 48,
            required_tag_keys: Vec::new(),
            iam: Default::default(),
            disabled_checks: Vec::new(),
            suppressions: Vec::new(),
        }
    }
}

/// Suppress matching findings. `check` and `resource` accept `*` wildcards; `resource`
/// matches the resource id or ARN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuppressionRule {
    pub check: String,
    #[serde(default = "star")]
    pub resource: String,
    /// Why the finding is accepted. Required: a suppression without a reason is refused.
    pub reason: String,
    /// YYYY-MM-DD. After this date the suppression no longer applies.
    #[serde(default)]
    pub expires: Option<String>,
}

fn star() -> String {
    "*".to_string()
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        cfg.validate(path)?;
        Ok(cfg)
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::from_toml_str(&text, path)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        for s in &self.suppressions {
            if s.reason.trim().is_empty() {
                return Err(invalid(format!(
                    "suppression for check `{}` has no reason; say why the finding is accepted",
                    s.check
                )));
            }
            if let Some(exp) = &s.expires {
                let fmt = time::macros::format_description!("[year]-[month]-[day]");
                time::Date::parse(exp, &fmt).map_err(|_| {
                    invalid(format!(
                        "suppression for check `{}` has expiry `{exp}`; use YYYY-MM-DD",
                        s.check
                    ))
                })?;
            }
        }
        for a in &self.trusted_accounts {
            if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(format!(
                    "trusted account `{a}` is not a 12-digit AWS account id"
                )));
            }
        }
        if !matches!(self.min_tls_version.as_str(), "1.0" | "1.1" | "1.2" | "1.3") {
            return Err(invalid(format!(
                "min_tls_version `{}` must be one of 1.0, 1.1, 1.2, 1.3",
                self.min_tls_version
            )));
        }
        if !(1..=35).contains(&self.min_backup_retention_days) {
            return Err(invalid(
                "min_backup_retention_days must be between 1 and 35".to_string(),
            ));
        }
        if self.max_source_prefix_v4 > 32 || self.max_source_prefix_v6 > 128 {
            return Err(invalid(
                "max_source_prefix_v4 must be 0-32 and max_source_prefix_v6 0-128".to_string(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example in the README must stay a valid configuration.
    #[test]
    fn readme_example_parses() {
        let readme = include_str!("../../../README.md");
        let start = readme
            .find("```toml\n")
            .expect("the README has a toml example")
            + "```toml\n".len();
        let len = readme[start..].find("```").expect("the example is closed");
        let cfg = Config::from_toml_str(&readme[start..start + len], Path::new("README.md"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cfg.trusted_accounts, vec!["444455556666".to_string()]);
        assert_eq!(cfg.suppressions.len(), 1);
    }

    #[test]
    fn suppression_without_reason_or_with_bad_date_is_refused() {
        let p = Path::new("x.toml");
        let no_reason = "[[suppressions]]\ncheck = \"*\"\nreason = \" \"\n";
        assert!(Config::from_toml_str(no_reason, p).is_err());
        let bad_date =
            "[[suppressions]]\ncheck = \"*\"\nreason = \"r\"\nexpires = \"31/12/2027\"\n";
        assert!(Config::from_toml_str(bad_date, p).is_err());
        assert!(Config::from_toml_str("trusted_accounts = [\"12345\"]", p).is_err());
        assert!(Config::from_toml_str("unknown_key = 1", p).is_err());
        assert_eq!(Config::from_toml_str("", p).unwrap(), Config::default());
    }
}
