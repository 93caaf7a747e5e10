//! IAM (global): users, groups, roles and managed policies from GetAccountAuthorizationDetails,
//! with every policy document decoded to plain JSON text. Real IAM returns documents
//! URL-encoded (RFC 3986); some endpoints (moto) return plain JSON: both are handled.
//! Nothing secret is collected (no access keys, no login profiles).

use aws_sdk_iam::types as sdk;
use rdsguard_model::{IamData, IamGroup, IamRole, IamUser, InlinePolicy, ManagedPolicy, Tags, ops};

use crate::call::{Ctx, Gaps, Scope};

pub(crate) async fn collect(
    ctx: &Ctx<'_>,
    iam: &aws_sdk_iam::Client,
    gaps: &Gaps,
) -> Option<IamData> {
    let op = ops::IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS;
    let pages = ctx
        .pages(
            op,
            Scope::global(),
            iam.get_account_authorization_details()
                .max_items(1000)
                .into_paginator()
                .send(),
        )
        .await;
    ctx.progress.op_done(&op.to_string(), None);
    let pages = gaps.ok(pages)?;
    let mut out = IamData::default();
    for p in &pages {
        out.users.extend(p.user_detail_list().iter().map(user));
        out.groups.extend(p.group_detail_list().iter().map(group));
        out.roles.extend(p.role_detail_list().iter().map(role));
        out.policies.extend(p.policies().iter().map(policy));
    }
    Some(out)
}

/// A policy document as JSON text: decoded when URL-encoded, unchanged when already JSON or
/// when decoding would not give valid UTF-8.
pub(crate) fn decode_document(doc: &str) -> String {
    let trimmed = doc.trim_start();
    if trimmed.starts_with('{') || !doc.contains('%') {
        return doc.to_string();
    }
    percent_decode(doc).unwrap_or_else(|| doc.to_string())
}

/// RFC 3986 percent-decoding (`+` is a literal plus). `None` on invalid UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn tags(list: &[sdk::Tag]) -> Tags {
    list.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

fn inline(name: Option<&str>, doc: Option<&str>) -> Option<InlinePolicy> {
    Some(InlinePolicy {
        name: name?.to_string(),
        document: decode_document(doc.unwrap_or_default()),
    })
}

fn attached(list: &[sdk::AttachedPolicy]) -> Vec<String> {
    list.iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect()
}

fn user(u: &sdk::UserDetail) -> IamUser {
    IamUser {
        name: u.user_name().unwrap_or_default().to_string(),
        arn: u.arn().unwrap_or_default().to_string(),
        user_id: u.user_id().map(str::to_string),
        path: u.path().map(str::to_string),
        groups: u.group_list().to_vec(),
        inline_policies: u
            .user_policy_list()
            .iter()
            .filter_map(|p| inline(p.policy_name(), p.policy_document()))
            .collect(),
        attached_policy_arns: attached(u.attached_managed_policies()),
        permissions_boundary_arn: u
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
            .map(str::to_string),
        tags: tags(u.tags()),
    }
}

fn group(g: &sdk::GroupDetail) -> IamGroup {
    IamGroup {
        name: g.group_name().unwrap_or_default().to_string(),
        arn: g.arn().unwrap_or_default().to_string(),
        path: g.path().map(str::to_string),
        inline_policies: g
            .group_policy_list()
            .iter()
            .filter_map(|p| inline(p.policy_name(), p.policy_document()))
            .collect(),
        attached_policy_arns: attached(g.attached_managed_policies()),
    }
}

fn role(r: &sdk::RoleDetail) -> IamRole {
    IamRole {
        name: r.role_name().unwrap_or_default().to_string(),
        arn: r.arn().unwrap_or_default().to_string(),
        role_id: r.role_id().map(str::to_string),
        path: r.path().map(str::to_string),
        assume_role_policy_document: r.assume_role_policy_document().map(decode_document),
        inline_policies: r
            .role_policy_list()
            .iter()
            .filter_map(|p| inline(p.policy_name(), p.policy_document()))
            .collect(),
        attached_policy_arns: attached(r.attached_managed_policies()),
        permissions_boundary_arn: r
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
            .map(str::to_string),
        tags: tags(r.tags()),
    }
}

fn policy(p: &sdk::ManagedPolicyDetail) -> ManagedPolicy {
    let default_version = p.policy_version_list().iter().find(|v| {
        v.is_default_version()
            || (p.default_version_id().is_some() && v.version_id() == p.default_version_id())
    });
    let arn = p.arn().unwrap_or_default().to_string();
    ManagedPolicy {
        // Some endpoints (moto) omit PolicyName: the ARN's last segment is the name.
        name: p.policy_name().map(str::to_string).or_else(|| {
            arn.rsplit('/')
                .next()
                .filter(|n| !n.is_empty())
                .map(str::to_string)
        }),
        path: p.path().map(str::to_string),
        default_version_id: p.default_version_id().map(str::to_string),
        document: default_version
            .and_then(|v| v.document())
            .map(decode_document),
        attachment_count: p.attachment_count(),
        arn,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoded_documents_are_decoded() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22rds%3A*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D";
        let decoded = decode_document(encoded);
        assert_eq!(
            decoded,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds:*","Resource":"*"}]}"#
        );
        // A literal '+' stays a plus (RFC 3986, not form encoding).
        assert_eq!(
            decode_document("%7B%22a%22%3A%22b+c%22%7D"),
            r#"{"a":"b+c"}"#
        );
    }

    #[test]
    fn plain_json_is_kept_even_with_percent_signs() {
        let plain = r#"{"Statement":[{"Condition":{"StringLike":{"aws:userid":"AIDA%41*"}}}]}"#;
        assert_eq!(decode_document(plain), plain);
        let spaced = "  {\"a\": 1}";
        assert_eq!(decode_document(spaced), spaced);
    }

    #[test]
    fn malformed_escapes_and_bad_utf8_are_left_alone() {
        assert_eq!(decode_document("%7B%2"), "{%2");
        assert_eq!(decode_document("%FF%FE"), "%FF%FE");
        assert_eq!(decode_document("%zz"), "%zz");
    }
}
