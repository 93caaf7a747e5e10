//! AWS Organizations facts that change what principals may do in an account: the service and
//! resource control policies (SCPs, RCPs) and where each account sits in the organization.
//!
//! Policies are stored once per snapshot ([`OrganizationData::policies`]) and referenced by id
//! from each account's [`AccountSnapshot::org_path`](crate::AccountSnapshot::org_path), so a
//! snapshot of thousands of accounts does not repeat the same documents thousands of times.

use serde::{Deserialize, Serialize};

use crate::Gap;

/// `SERVICE_CONTROL_POLICY`, as Organizations names the policy type.
pub const SERVICE_CONTROL_POLICY: &str = "SERVICE_CONTROL_POLICY";
/// `RESOURCE_CONTROL_POLICY`, as Organizations names the policy type.
pub const RESOURCE_CONTROL_POLICY: &str = "RESOURCE_CONTROL_POLICY";

/// The organization the snapshot's accounts belong to, as seen from the management account or
/// a delegated administrator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrganizationData {
    /// `o-...`.
    pub id: String,
    #[serde(default)]
    pub arn: Option<String>,
    /// SCPs never restrict the management account; the IAM engine needs to know which it is.
    #[serde(default)]
    pub management_account_id: Option<String>,
    /// Policy types enabled on the root (`SERVICE_CONTROL_POLICY`, `RESOURCE_CONTROL_POLICY`).
    /// A type that is not enabled does not apply, even if policies of it exist.
    #[serde(default)]
    pub enabled_policy_types: Vec<String>,
    /// Every SCP and RCP attached anywhere on the accounts' paths, once each.
    #[serde(default)]
    pub policies: Vec<OrgPolicy>,
    /// Organizations calls that failed; while a policy listing is missing, answers that depend
    /// on SCPs or RCPs are incomplete.
    #[serde(default)]
    pub gaps: Vec<Gap>,
}

/// One SCP or RCP.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrgPolicy {
    /// `p-...` (AWS managed ones such as `p-FullAWSAccess` too).
    pub id: String,
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// [`SERVICE_CONTROL_POLICY`] or [`RESOURCE_CONTROL_POLICY`].
    pub policy_type: String,
    #[serde(default)]
    pub aws_managed: bool,
    /// The policy document, JSON text; `None` when DescribePolicy failed (see gaps).
    #[serde(default)]
    pub content: Option<String>,
}

/// One node on an account's path through the organization: the root, an OU, or the account
/// itself, with the policies attached directly to it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrgTarget {
    /// `r-...`, `ou-...` or the 12-digit account id.
    pub id: String,
    /// `ROOT`, `ORGANIZATIONAL_UNIT` or `ACCOUNT`.
    pub kind: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Ids of the SCPs and RCPs attached directly to this node (see
    /// [`OrganizationData::policies`]).
    #[serde(default)]
    pub policy_ids: Vec<String>,
}

impl OrganizationData {
    pub fn policy(&self, id: &str) -> Option<&OrgPolicy> {
        self.policies.iter().find(|p| p.id == id)
    }

    pub fn policy_type_enabled(&self, policy_type: &str) -> bool {
        self.enabled_policy_types.iter().any(|t| t == policy_type)
    }
}
