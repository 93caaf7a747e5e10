//! IAM facts (GetAccountAuthorizationDetails): principals and the policies attached to them.
//! Policy documents are kept as JSON text exactly as IAM returned them (URL-decoded).

use serde::{Deserialize, Serialize};

use crate::Tags;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IamData {
    #[serde(default)]
    pub users: Vec<IamUser>,
    #[serde(default)]
    pub groups: Vec<IamGroup>,
    #[serde(default)]
    pub roles: Vec<IamRole>,
    /// Managed policies (customer managed, and AWS managed ones that are attached), with the
    /// default version's document.
    #[serde(default)]
    pub policies: Vec<ManagedPolicy>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InlinePolicy {
    pub name: String,
    /// The policy document, JSON text.
    pub document: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IamUser {
    pub name: String,
    pub arn: String,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub inline_policies: Vec<InlinePolicy>,
    /// ARNs of attached managed policies.
    #[serde(default)]
    pub attached_policy_arns: Vec<String>,
    /// ARN of the permissions boundary policy, when set.
    #[serde(default)]
    pub permissions_boundary_arn: Option<String>,
    #[serde(default)]
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IamGroup {
    pub name: String,
    pub arn: String,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub inline_policies: Vec<InlinePolicy>,
    #[serde(default)]
    pub attached_policy_arns: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IamRole {
    pub name: String,
    pub arn: String,
    #[serde(default)]
    pub role_id: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    /// Trust policy document, JSON text.
    #[serde(default)]
    pub assume_role_policy_document: Option<String>,
    #[serde(default)]
    pub inline_policies: Vec<InlinePolicy>,
    #[serde(default)]
    pub attached_policy_arns: Vec<String>,
    #[serde(default)]
    pub permissions_boundary_arn: Option<String>,
    #[serde(default)]
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ManagedPolicy {
    pub arn: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub default_version_id: Option<String>,
    /// The default version's document, JSON text. `None` if it was not returned.
    #[serde(default)]
    pub document: Option<String>,
    #[serde(default)]
    pub attachment_count: Option<i32>,
}

impl IamData {
    pub fn policy(&self, arn: &str) -> Option<&ManagedPolicy> {
        self.policies.iter().find(|p| p.arn == arn)
    }
}
