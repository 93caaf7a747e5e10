//! Service and resource control policies from AWS Organizations, placed on an account's path.
//!
//! AWS (IAM User Guide, *Policy evaluation logic*; Organizations User Guide, *SCP evaluation*):
//! - an SCP restricts the IAM users and roles (and root user) of member accounts: at every
//!   level from the root to the account some attached SCP must allow the action, and an explicit
//!   deny at any level wins; SCPs never restrict the management account, nor service-linked
//!   roles;
//! - an RCP restricts requests to resources of member accounts (for the services that support
//!   RCPs, KMS among them; RDS is not): only its denies matter, `RCPFullAWSAccess` being
//!   attached everywhere; RCPs never restrict the management account's resources;
//! - a policy type that is not enabled on the root has no effect.
//!
//! What the snapshot does not say is reported as a caveat, never assumed away in the
//! restricting direction: an SCP whose text was not collected is left out, so answers may
//! over-state access, and the caveat says so.

use rdsguard_model::{
    AccountSnapshot, OrganizationData, RESOURCE_CONTROL_POLICY, SERVICE_CONTROL_POLICY,
};

use crate::compile::{CompiledPolicy, PolicyKind};

/// The SCPs and RCPs that apply to one account, compiled, level by level (root first).
#[derive(Debug, Clone, Default)]
pub struct OrgPolicies {
    pub(crate) scp_levels: Vec<Vec<CompiledPolicy>>,
    pub(crate) rcp_levels: Vec<Vec<CompiledPolicy>>,
    /// Caveats about what is known of the organization, for answers' notes.
    pub notes: Vec<String>,
    /// `aws:PrincipalOrgID` / `aws:ResourceOrgID` of the account, when it is in the
    /// organization's tree.
    pub org_id: Option<String>,
    /// `aws:PrincipalOrgPaths` / `aws:ResourceOrgPaths`: `o-.../r-.../ou-.../`.
    pub org_path: Option<String>,
}

impl OrgPolicies {
    /// The organization policies for `account`, from the snapshot's organization data.
    pub fn for_account(org: Option<&OrganizationData>, account: &AccountSnapshot) -> OrgPolicies {
        let mut out = OrgPolicies::default();
        let Some(org) = org else {
            out.notes.push(
                "SCPs and RCPs were not collected (collect with --org from the management \
                 account): the answer assumes none restricts this account"
                    .into(),
            );
            return out;
        };
        if !account.org_path.is_empty() {
            out.org_id = Some(org.id.clone());
            let mut path = format!("{}/", org.id);
            for t in account.org_path.iter().filter(|t| t.kind != "ACCOUNT") {
                path.push_str(&t.id);
                path.push('/');
            }
            out.org_path = Some(path);
        }
        if org.management_account_id.as_deref() == Some(account.account_id.as_str()) {
            out.notes.push(format!(
                "{} is the organization's management account: SCPs and RCPs do not apply to it",
                account.account_id
            ));
            return out;
        }
        if account.org_path.is_empty() {
            out.notes.push(format!(
                "account {} was not found in organization {}'s tree: its SCPs and RCPs are \
                 unknown, the answer assumes none restricts it",
                account.account_id, org.id
            ));
            return out;
        }
        for gap in &org.gaps {
            out.notes.push(format!(
                "organization data is incomplete ({}): SCPs or RCPs may be missing, so the \
                 answer may over-state access",
                gap.describe()
            ));
        }
        let enabled = |t: &str| org.enabled_policy_types.is_empty() || org.policy_type_enabled(t);
        for (policy_type, kind) in [
            (SERVICE_CONTROL_POLICY, PolicyKind::Scp),
            (RESOURCE_CONTROL_POLICY, PolicyKind::Rcp),
        ] {
            if !enabled(policy_type) {
                continue;
            }
            let mut levels = Vec::new();
            for target in &account.org_path {
                let mut level = Vec::new();
                for id in &target.policy_ids {
                    let Some(policy) = org.policy(id) else {
                        // Attached ids of another type are in the other pass; an id with no
                        // policy at all is unknown.
                        out.notes.push(format!(
                            "policy {id} attached to {} is not in the snapshot: the answer \
                             ignores it",
                            target.id
                        ));
                        continue;
                    };
                    if policy.policy_type != policy_type {
                        continue;
                    }
                    let name = format!(
                        "{} {} ({}) on {}",
                        kind.label(),
                        policy.name.as_deref().unwrap_or(&policy.id),
                        policy.id,
                        target.name.as_deref().unwrap_or(&target.id)
                    );
                    let Some(content) = &policy.content else {
                        out.notes.push(format!(
                            "the text of {name} was not collected: the answer ignores it and \
                             may over-state access"
                        ));
                        continue;
                    };
                    match CompiledPolicy::from_json(&name, kind, content) {
                        Ok(p) => level.push(p),
                        Err(e) => out.notes.push(format!(
                            "{name} is unreadable ({e}): the answer ignores it and may \
                             over-state access"
                        )),
                    }
                }
                // Every node has at least one SCP while SCPs are enabled; an empty level
                // means the attachments are unknown, and an empty level would deny
                // everything, so it is left out (over-stating, with the caveat above).
                if !level.is_empty() {
                    levels.push(level);
                } else if kind == PolicyKind::Scp {
                    out.notes.push(format!(
                        "no readable SCP is known on {} ({}): that level is not evaluated",
                        target.name.as_deref().unwrap_or(&target.id),
                        target.kind
                    ));
                }
            }
            match kind {
                PolicyKind::Scp => out.scp_levels = levels,
                _ => out.rcp_levels = levels,
            }
        }
        let scps = out.scp_levels.iter().map(Vec::len).sum::<usize>();
        let rcps = out.rcp_levels.iter().map(Vec::len).sum::<usize>();
        out.notes.push(format!(
            "evaluated with {scps} SCP(s) over {} level(s) and {rcps} RCP(s) of organization {}",
            out.scp_levels.len(),
            org.id
        ));
        out
    }

    /// The organization keys of principals and resources of the account.
    pub(crate) fn insert_context(&self, principal: bool, ctx: &mut crate::context::RequestContext) {
        let (id_key, path_key) = if principal {
            ("aws:PrincipalOrgID", "aws:PrincipalOrgPaths")
        } else {
            ("aws:ResourceOrgID", "aws:ResourceOrgPaths")
        };
        if let Some(id) = &self.org_id {
            ctx.insert_single(id_key, id.clone());
        }
        if let Some(path) = &self.org_path {
            ctx.insert_single(path_key, path.clone());
        }
    }

    /// Whether SCPs restrict this principal: not for service-linked roles.
    pub(crate) fn scps_apply_to(principal_arn: &str) -> bool {
        !principal_arn.contains(":role/aws-service-role/")
    }

    pub(crate) fn scp_refs(&self, principal_arn: &str) -> Vec<Vec<&CompiledPolicy>> {
        if !Self::scps_apply_to(principal_arn) {
            return Vec::new();
        }
        self.scp_levels.iter().map(|l| l.iter().collect()).collect()
    }

    pub(crate) fn rcp_refs(&self) -> Vec<Vec<&CompiledPolicy>> {
        self.rcp_levels.iter().map(|l| l.iter().collect()).collect()
    }

    /// The SCP and RCP statements for `action`, every level.
    fn statements_for<'s>(
        &'s self,
        action: &'s crate::context::RequestAction,
    ) -> impl Iterator<Item = &'s crate::compile::CompiledStatement> {
        self.scp_levels
            .iter()
            .chain(&self.rcp_levels)
            .flatten()
            .flat_map(|p| p.candidates(&action.service))
            .filter(|st| st.action_matches(action))
    }

    /// Whether any SCP or RCP statement for `action` may read the requested region.
    pub(crate) fn reads_region_for(&self, action: &crate::context::RequestAction) -> bool {
        self.statements_for(action)
            .any(|st| st.conditions_may_read_region())
    }

    /// Whether any SCP or RCP statement for `action` has a condition (which could read the
    /// principal or the request): answers then cannot be shared between principals.
    pub(crate) fn conditional_for(&self, action: &crate::context::RequestAction) -> bool {
        self.statements_for(action)
            .any(|st| !st.conditions.is_empty())
    }

    /// Whether any SCP or RCP statement for `action` reads the request beyond its action,
    /// resource and principal (a condition, or a policy variable in its resource).
    pub(crate) fn reads_request_for(&self, action: &crate::context::RequestAction) -> bool {
        self.statements_for(action).any(|st| st.reads_request())
    }

    /// Whether any SCP or RCP statement for `action` depends on the resource (names resources
    /// or reads resource conditions): answers cannot then be shared between resources.
    pub(crate) fn resource_specific_for(&self, action: &crate::context::RequestAction) -> bool {
        self.statements_for(action)
            .any(|st| !st.matches_any_resource() || st.conditions_depend_on_resource())
    }
}
