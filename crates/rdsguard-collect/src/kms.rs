//! AWS KMS: keys (with metadata, rotation, default key policy and grant count) and aliases.
//!
//! Rotation status is asked only where automatic rotation exists: customer managed,
//! symmetric, AWS_KMS-origin keys not pending deletion (elsewhere `rotation_enabled` stays
//! `None` without a gap: AWS rotates AWS managed keys itself, and the others cannot rotate).
//! When DescribeKey failed the kind of key is unknown, so rotation is asked anyway.
//!
//! Per-item gaps name the key id.

use futures::future::join_all;
use rdsguard_model::{KmsAlias, KmsData, KmsGrant, KmsKey, Tags, ops};

use crate::call::{Ctx, Gaps, Scope};
use crate::clients::RegionClients;
use crate::util::ts;

const PAGE_1000: i32 = 1000;
const PAGE_100: i32 = 100;

pub(crate) async fn collect(ctx: &Ctx<'_>, rc: &RegionClients, gaps: &Gaps) -> KmsData {
    let region = rc.region.as_str();
    let kms = &rc.kms;
    let aliases = async {
        let op = ops::KMS_LIST_ALIASES;
        let stream = kms.list_aliases().limit(PAGE_100).into_paginator().send();
        let v = ctx
            .list(op, region, gaps, stream, |p| {
                p.aliases()
                    .iter()
                    .filter_map(|a| {
                        Some(KmsAlias {
                            alias_name: a.alias_name()?.to_string(),
                            alias_arn: a.alias_arn().map(str::to_string),
                            target_key_id: a.target_key_id().map(str::to_string),
                        })
                    })
                    .collect::<Vec<_>>()
            })
            .await;
        ctx.progress.op_done(&op.to_string(), Some(region));
        v
    };
    let keys = async {
        let op = ops::KMS_LIST_KEYS;
        let stream = kms.list_keys().limit(PAGE_1000).into_paginator().send();
        let listed: Vec<(String, String)> = ctx
            .list(op, region, gaps, stream, |p| {
                p.keys()
                    .iter()
                    .filter_map(|k| {
                        Some((
                            k.key_id()?.to_string(),
                            k.key_arn().unwrap_or_default().to_string(),
                        ))
                    })
                    .collect::<Vec<_>>()
            })
            .await;
        let keys = join_all(
            listed
                .into_iter()
                .map(|(id, arn)| key_details(ctx, rc, gaps, id, arn)),
        )
        .await;
        ctx.progress.op_done(&op.to_string(), Some(region));
        keys
    };
    let (aliases, mut keys) = futures::join!(aliases, keys);
    for key in &mut keys {
        key.aliases = aliases
            .iter()
            .filter(|a| a.target_key_id.as_deref() == Some(key.key_id.as_str()))
            .map(|a| a.alias_name.clone())
            .collect();
    }
    KmsData { keys, aliases }
}

/// Whether KMS can rotate the key automatically, from its DescribeKey metadata.
fn rotation_applies(key: &KmsKey) -> bool {
    if key.key_manager.is_none() {
        // DescribeKey failed: ask rather than assume.
        return true;
    }
    key.key_manager.as_deref() == Some("CUSTOMER")
        && key
            .key_spec
            .as_deref()
            .is_none_or(|s| s == "SYMMETRIC_DEFAULT")
        && key.origin.as_deref().is_none_or(|o| o == "AWS_KMS")
        && !matches!(
            key.key_state.as_deref(),
            Some("PendingDeletion" | "PendingReplicaDeletion")
        )
}

/// A grant as the snapshot keeps it (grant tokens are never returned by ListGrants, and
/// nothing else in a grant is secret).
fn grant_of(g: &aws_sdk_kms::types::GrantListEntry) -> KmsGrant {
    let constraints = g.constraints();
    let pairs = |m: Option<&std::collections::HashMap<String, String>>| {
        m.map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Tags>()
        })
    };
    KmsGrant {
        grant_id: g.grant_id().unwrap_or_default().to_string(),
        name: g.name().filter(|n| !n.is_empty()).map(str::to_string),
        grantee_principal: g.grantee_principal().map(str::to_string),
        retiring_principal: g.retiring_principal().map(str::to_string),
        issuing_account: g.issuing_account().map(str::to_string),
        operations: g
            .operations()
            .iter()
            .map(|o| o.as_str().to_string())
            .collect(),
        encryption_context_subset: pairs(constraints.and_then(|c| c.encryption_context_subset())),
        encryption_context_equals: pairs(constraints.and_then(|c| c.encryption_context_equals())),
        creation_date: ts(g.creation_date()),
    }
}

async fn key_details(
    ctx: &Ctx<'_>,
    rc: &RegionClients,
    gaps: &Gaps,
    key_id: String,
    arn: String,
) -> KmsKey {
    let region = rc.region.as_str();
    let scope = Scope::item(region, &key_id);
    let kms = &rc.kms;
    let mut key = KmsKey {
        key_id: key_id.clone(),
        arn,
        tags: Tags::new(),
        ..Default::default()
    };
    let described = ctx.call(
        ops::KMS_DESCRIBE_KEY,
        scope,
        kms.describe_key().key_id(&key_id).send(),
    );
    let policy = ctx.call(
        ops::KMS_GET_KEY_POLICY,
        scope,
        kms.get_key_policy()
            .key_id(&key_id)
            .policy_name("default")
            .send(),
    );
    let grants = ctx.pages(
        ops::KMS_LIST_GRANTS,
        scope,
        kms.list_grants()
            .key_id(&key_id)
            .limit(PAGE_100)
            .into_paginator()
            .send(),
    );
    let (described, policy, grants) = futures::join!(described, policy, grants);
    if let Some(m) = gaps.ok(described).as_ref().and_then(|d| d.key_metadata()) {
        if key.arn.is_empty() {
            key.arn = m.arn().unwrap_or_default().to_string();
        }
        key.key_manager = m.key_manager().map(|v| v.as_str().to_string());
        key.key_state = m.key_state().map(|v| v.as_str().to_string());
        key.key_spec = m.key_spec().map(|v| v.as_str().to_string());
        key.key_usage = m.key_usage().map(|v| v.as_str().to_string());
        key.origin = m.origin().map(|v| v.as_str().to_string());
        key.multi_region = m.multi_region();
        key.creation_date = ts(m.creation_date());
        key.deletion_date = ts(m.deletion_date());
        key.description = m.description().map(str::to_string);
    }
    key.policy = gaps.ok(policy).and_then(|p| p.policy().map(str::to_string));
    if let Some(pages) = gaps.ok(grants) {
        let grants: Vec<KmsGrant> = pages
            .iter()
            .flat_map(|p| p.grants())
            .map(grant_of)
            .collect();
        key.grants_count = Some(u32::try_from(grants.len()).unwrap_or(u32::MAX));
        key.grants = Some(grants);
    }
    if rotation_applies(&key) {
        let rotation = ctx
            .call(
                ops::KMS_GET_KEY_ROTATION_STATUS,
                scope,
                kms.get_key_rotation_status().key_id(&key_id).send(),
            )
            .await;
        if let Some(r) = gaps.ok(rotation) {
            key.rotation_enabled = Some(r.key_rotation_enabled());
            key.rotation_period_in_days = r.rotation_period_in_days();
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(manager: Option<&str>, spec: &str, origin: &str, state: &str) -> KmsKey {
        KmsKey {
            key_manager: manager.map(str::to_string),
            key_spec: Some(spec.into()),
            origin: Some(origin.into()),
            key_state: Some(state.into()),
            ..Default::default()
        }
    }

    #[test]
    fn rotation_is_asked_only_where_it_exists() {
        assert!(rotation_applies(&key(
            Some("CUSTOMER"),
            "SYMMETRIC_DEFAULT",
            "AWS_KMS",
            "Enabled"
        )));
        assert!(!rotation_applies(&key(
            Some("AWS"),
            "SYMMETRIC_DEFAULT",
            "AWS_KMS",
            "Enabled"
        )));
        assert!(!rotation_applies(&key(
            Some("CUSTOMER"),
            "RSA_2048",
            "AWS_KMS",
            "Enabled"
        )));
        assert!(!rotation_applies(&key(
            Some("CUSTOMER"),
            "SYMMETRIC_DEFAULT",
            "EXTERNAL",
            "Enabled"
        )));
        assert!(!rotation_applies(&key(
            Some("CUSTOMER"),
            "SYMMETRIC_DEFAULT",
            "AWS_KMS",
            "PendingDeletion"
        )));
        // Unknown kind of key (DescribeKey failed): ask.
        assert!(rotation_applies(&key(
            None,
            "SYMMETRIC_DEFAULT",
            "AWS_KMS",
            "Enabled"
        )));
    }
}
