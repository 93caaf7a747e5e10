//! AWS KMS facts: the keys that encrypt databases and who controls them.

use serde::{Deserialize, Serialize};

use crate::Tags;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KmsData {
    #[serde(default)]
    pub keys: Vec<KmsKey>,
    #[serde(default)]
    pub aliases: Vec<KmsAlias>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KmsAlias {
    /// e.g. `alias/aws/rds`.
    pub alias_name: String,
    #[serde(default)]
    pub alias_arn: Option<String>,
    #[serde(default)]
    pub target_key_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KmsKey {
    pub key_id: String,
    pub arn: String,
    /// `AWS` or `CUSTOMER`; `None` when DescribeKey failed (see gaps).
    #[serde(default)]
    pub key_manager: Option<String>,
    /// `Enabled`, `Disabled`, `PendingDeletion`, `PendingImport`, `Unavailable`...
    #[serde(default)]
    pub key_state: Option<String>,
    /// `SYMMETRIC_DEFAULT`, `RSA_2048`...
    #[serde(default)]
    pub key_spec: Option<String>,
    /// `ENCRYPT_DECRYPT`, `SIGN_VERIFY`...
    #[serde(default)]
    pub key_usage: Option<String>,
    /// `AWS_KMS`, `EXTERNAL`, `AWS_CLOUDHSM`, `EXTERNAL_KEY_STORE`.
    #[serde(default)]
    pub origin: Option<String>,
    #[serde(default)]
    pub multi_region: Option<bool>,
    #[serde(default)]
    pub creation_date: Option<String>,
    #[serde(default)]
    pub deletion_date: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// `None` when not collected (AWS managed keys rotate yearly by AWS; the call may fail).
    #[serde(default)]
    pub rotation_enabled: Option<bool>,
    #[serde(default)]
    pub rotation_period_in_days: Option<i32>,
    /// The key policy document as JSON text; `None` when not collected.
    #[serde(default)]
    pub policy: Option<String>,
    /// Number of grants on the key; `None` when not collected.
    #[serde(default)]
    pub grants_count: Option<u32>,
    /// The grants themselves (ListGrants); `None` when not collected (see gaps). Grants give
    /// principals KMS operations outside the key policy and IAM, so who-can reads them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Vec<KmsGrant>>,
    /// Aliases pointing at this key (joined from ListAliases).
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub tags: Tags,
}

/// One KMS grant (ListGrants).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KmsGrant {
    pub grant_id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// The principal the grant gives operations to (an ARN, or a service principal).
    #[serde(default)]
    pub grantee_principal: Option<String>,
    #[serde(default)]
    pub retiring_principal: Option<String>,
    #[serde(default)]
    pub issuing_account: Option<String>,
    /// KMS operation names without the `kms:` prefix, e.g. `Decrypt`, `CreateGrant`.
    #[serde(default)]
    pub operations: Vec<String>,
    /// The grant applies only when the request's encryption context contains these pairs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_context_subset: Option<Tags>,
    /// The grant applies only when the request's encryption context is exactly these pairs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_context_equals: Option<Tags>,
    #[serde(default)]
    pub creation_date: Option<String>,
}

impl KmsKey {
    pub fn is_customer_managed(&self) -> Option<bool> {
        self.key_manager.as_deref().map(|m| m == "CUSTOMER")
    }
}

impl KmsData {
    /// Resolve a key reference as RDS reports it (key ARN, key id, alias name or alias ARN).
    pub fn resolve(&self, reference: &str) -> Option<&KmsKey> {
        if let Some(k) = self
            .keys
            .iter()
            .find(|k| k.arn == reference || k.key_id == reference)
        {
            return Some(k);
        }
        let alias_name = reference
            .split_once(":alias/")
            .map(|(_, name)| format!("alias/{name}"))
            .unwrap_or_else(|| reference.to_string());
        let alias = self.aliases.iter().find(|a| a.alias_name == alias_name)?;
        let target = alias.target_key_id.as_deref()?;
        self.keys
            .iter()
            .find(|k| k.key_id == target || k.arn == target)
    }
}
