//! SCPs and RCPs from the snapshot's organization, and KMS grants, in who-can and explain;
//! the bulk who-can used by the checks must give the same answers as `who_can`.

use std::collections::BTreeMap;
use std::rc::Rc;

use rdsguard_iam::account::who_can;
use rdsguard_iam::{AccountModel, BulkWhoCan, Decision, ResourceAnswer, StaticDecision, explain};
use rdsguard_model::{
    AccountSnapshot, DbInstance, IamData, IamRole, InlinePolicy, KmsGrant, KmsKey, OrgPolicy,
    OrgTarget, OrganizationData, RESOURCE_CONTROL_POLICY, RegionSnapshot, SERVICE_CONTROL_POLICY,
    Snapshot, SnapshotSource,
};

const ACCT: &str = "111122223333";
const MGMT: &str = "999999999999";
const PROD_DB: &str = "arn:aws:rds:us-east-1:111122223333:db:prod-orders";
const DEV_DB: &str = "arn:aws:rds:us-east-1:111122223333:db:dev-orders";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/k1";
const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

fn role(name: &str, inline: Option<&str>) -> IamRole {
    IamRole {
        name: name.rsplit('/').next().unwrap_or(name).into(),
        arn: format!("arn:aws:iam::{ACCT}:role/{name}"),
        inline_policies: inline
            .map(|d| {
                vec![InlinePolicy {
                    name: "inline".into(),
                    document: d.into(),
                }]
            })
            .unwrap_or_default(),
        ..Default::default()
    }
}

fn db(arn: &str) -> DbInstance {
    DbInstance {
        db_instance_identifier: arn.rsplit(':').next().unwrap_or_default().into(),
        db_instance_arn: arn.into(),
        engine: "postgres".into(),
        ..Default::default()
    }
}

fn grant(id: &str, grantee: &str, ops: &[&str]) -> KmsGrant {
    KmsGrant {
        grant_id: id.into(),
        grantee_principal: Some(grantee.into()),
        operations: ops.iter().map(|o| o.to_string()).collect(),
        ..Default::default()
    }
}

/// An account with an admin role, a role with no policy at all, a service-linked role, and a
/// role whose IAM explicitly denies kms:Decrypt; two databases and a key delegating to IAM.
fn account() -> AccountSnapshot {
    let iam = IamData {
        roles: vec![
            role("Admin", Some(ALLOW_ALL)),
            role("NoPolicy", None),
            role(
                "aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS",
                Some(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds:*","Resource":"*"}]}"#,
                ),
            ),
            role(
                "NoDecrypt",
                Some(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}]}"#,
                ),
            ),
        ],
        ..Default::default()
    };
    let mut region = RegionSnapshot::new("us-east-1");
    region.rds.db_instances = vec![db(PROD_DB), db(DEV_DB)];
    region.kms.keys.push(KmsKey {
        key_id: "k1".into(),
        arn: KEY.into(),
        key_manager: Some("CUSTOMER".into()),
        policy: Some(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"EnableIAM","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#
        )),
        grants_count: Some(0),
        grants: Some(Vec::new()),
        ..Default::default()
    });
    AccountSnapshot {
        account_id: ACCT.into(),
        partition: "aws".into(),
        iam: Some(iam),
        regions: vec![region],
        ..Default::default()
    }
}

fn snapshot(org: Option<OrganizationData>, path: Vec<OrgTarget>) -> Snapshot {
    let mut s = Snapshot::new(
        SnapshotSource {
            kind: "test".into(),
            endpoint_url: None,
            regions: vec!["us-east-1".into()],
        },
        "2026-06-01T00:00:00Z",
    );
    s.organization = org;
    let mut a = account();
    a.org_path = path;
    s.accounts.push(a);
    s
}

fn policy(id: &str, policy_type: &str, content: Option<&str>) -> OrgPolicy {
    OrgPolicy {
        id: id.into(),
        name: Some(id.trim_start_matches("p-").into()),
        policy_type: policy_type.into(),
        aws_managed: id == "p-FullAWSAccess",
        content: content.map(str::to_string),
        ..Default::default()
    }
}

fn target(id: &str, kind: &str, policies: &[&str]) -> OrgTarget {
    OrgTarget {
        id: id.into(),
        kind: kind.into(),
        name: None,
        policy_ids: policies.iter().map(|p| p.to_string()).collect(),
    }
}

/// An organization whose `Prod` OU denies deleting `prod-*` databases and any action outside
/// us-east-1, with FullAWSAccess everywhere; `extra` policies are added.
fn org(extra: Vec<OrgPolicy>) -> OrganizationData {
    let mut policies = vec![
        policy("p-FullAWSAccess", SERVICE_CONTROL_POLICY, Some(ALLOW_ALL)),
        policy(
            "p-protectprod",
            SERVICE_CONTROL_POLICY,
            Some(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"rds:DeleteDBInstance","Resource":"arn:aws:rds:*:*:db:prod-*"}]}"#,
            ),
        ),
    ];
    policies.extend(extra);
    OrganizationData {
        id: "o-abc123".into(),
        management_account_id: Some(MGMT.into()),
        enabled_policy_types: vec![
            SERVICE_CONTROL_POLICY.into(),
            RESOURCE_CONTROL_POLICY.into(),
        ],
        policies,
        ..Default::default()
    }
}

/// The account's path: the root, one OU with FullAWSAccess and `ou_policies`, the account.
fn path_through(ou: &str, ou_policies: &[&str]) -> Vec<OrgTarget> {
    let mut policies = vec!["p-FullAWSAccess"];
    policies.extend_from_slice(ou_policies);
    vec![
        target("r-root", "ROOT", &["p-FullAWSAccess"]),
        target(ou, "ORGANIZATIONAL_UNIT", &policies),
        target(ACCT, "ACCOUNT", &["p-FullAWSAccess"]),
    ]
}

fn prod_path() -> Vec<OrgTarget> {
    path_through("ou-prod", &["p-protectprod"])
}

fn allowed(s: &Snapshot, action: &str, resource: &str) -> Vec<String> {
    let a = who_can(s, ACCT, action, resource).unwrap();
    let mut names: Vec<String> = a.actions[0]
        .principals
        .iter()
        .map(|p| p.name.clone())
        .collect();
    names.sort();
    names
}

/// The bulk who-can's answers about `resources` in turn, from one engine.
fn bulk_answers(s: &Snapshot, action: &str, resources: &[String]) -> Vec<Rc<ResourceAnswer>> {
    let account = &s.accounts[0];
    let model = AccountModel::build_in(s, account).unwrap();
    let bulk = BulkWhoCan::new(&model, account);
    resources
        .iter()
        .map(|r| bulk.answer(action, r).unwrap())
        .collect()
}

/// The bulk who-can's answer equals `who_can`'s, for every resource asked in turn (so a shared
/// answer computed for one resource must not leak into another).
fn assert_bulk_equals(s: &Snapshot, action: &str, resources: &[&str]) {
    let account = &s.accounts[0];
    let model = AccountModel::build_in(s, account).unwrap();
    let bulk = BulkWhoCan::new(&model, account);
    for r in resources {
        let expected = who_can(s, ACCT, action, r).unwrap();
        let got = bulk.answer(action, r).unwrap().to_action_answer();
        assert_eq!(got, expected.actions[0], "{action} on {r}");
    }
}

#[test]
fn an_ou_scp_denying_deletes_of_prod_databases_removes_every_principal_for_prod_only() {
    let s = snapshot(Some(org(vec![])), prod_path());
    assert!(
        allowed(&s, "rds:DeleteDBInstance", PROD_DB).is_empty() || {
            // The service-linked role is not restricted by SCPs.
            allowed(&s, "rds:DeleteDBInstance", PROD_DB) == vec!["AWSServiceRoleForRDS"]
        }
    );
    assert_eq!(
        allowed(&s, "rds:DeleteDBInstance", PROD_DB),
        vec!["AWSServiceRoleForRDS"]
    );
    assert_eq!(
        allowed(&s, "rds:DeleteDBInstance", DEV_DB),
        vec!["AWSServiceRoleForRDS", "Admin"]
    );
    assert_bulk_equals(&s, "rds:DeleteDBInstance", &[PROD_DB, DEV_DB, PROD_DB]);
    assert_bulk_equals(&s, "rds:DeleteDBInstance", &[DEV_DB, PROD_DB]);
    let a = who_can(&s, ACCT, "rds:DeleteDBInstance", PROD_DB).unwrap();
    assert!(
        a.notes
            .iter()
            .any(|n| n.contains("4 SCP(s) over 3 level(s)")),
        "{:?}",
        a.notes
    );
}

#[test]
fn every_level_must_allow_the_action() {
    // The OU's only SCP allows EC2: nothing else is allowed below it.
    let mut o = org(vec![policy(
        "p-ec2only",
        SERVICE_CONTROL_POLICY,
        Some(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#,
        ),
    )]);
    o.policies.retain(|p| p.id != "p-protectprod");
    let path = vec![
        target("r-root", "ROOT", &["p-FullAWSAccess"]),
        target("ou-sandbox", "ORGANIZATIONAL_UNIT", &["p-ec2only"]),
        target(ACCT, "ACCOUNT", &["p-FullAWSAccess"]),
    ];
    let s = snapshot(Some(o), path);
    assert_eq!(
        allowed(&s, "rds:DeleteDBInstance", DEV_DB),
        vec!["AWSServiceRoleForRDS"]
    );
    let e = explain(
        &s,
        &format!("arn:aws:iam::{ACCT}:role/Admin"),
        "rds:DeleteDBInstance",
        DEV_DB,
        &[],
    )
    .unwrap();
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert_bulk_equals(&s, "rds:DeleteDBInstance", &[DEV_DB, PROD_DB]);
}

#[test]
fn scps_do_not_apply_to_the_management_account() {
    let mut s = snapshot(Some(org(vec![])), prod_path());
    s.organization.as_mut().unwrap().management_account_id = Some(ACCT.into());
    assert_eq!(
        allowed(&s, "rds:DeleteDBInstance", PROD_DB),
        vec!["AWSServiceRoleForRDS", "Admin"]
    );
    let a = who_can(&s, ACCT, "rds:DeleteDBInstance", PROD_DB).unwrap();
    assert!(a.notes.iter().any(|n| n.contains("management account")));
}

#[test]
fn without_organization_data_the_answer_says_scps_were_not_considered() {
    let s = snapshot(None, Vec::new());
    assert_eq!(
        allowed(&s, "rds:DeleteDBInstance", PROD_DB),
        vec!["AWSServiceRoleForRDS", "Admin"]
    );
    let a = who_can(&s, ACCT, "rds:DeleteDBInstance", PROD_DB).unwrap();
    assert!(a.notes.iter().any(|n| n.contains("were not collected")));
}

#[test]
fn an_scp_whose_text_is_missing_is_reported_not_silently_applied() {
    let mut o = org(vec![]);
    for p in &mut o.policies {
        if p.id == "p-protectprod" {
            p.content = None;
        }
    }
    let s = snapshot(Some(o), prod_path());
    let a = who_can(&s, ACCT, "rds:DeleteDBInstance", PROD_DB).unwrap();
    assert!(
        a.notes
            .iter()
            .any(|n| n.contains("p-protectprod") && n.contains("over-state")),
        "{:?}",
        a.notes
    );
    // Over-stated, never under-stated: Admin still listed.
    assert!(allowed(&s, "rds:DeleteDBInstance", PROD_DB).contains(&"Admin".to_string()));
}

#[test]
fn conditions_on_the_principal_org_id_are_decided_from_the_organization() {
    // Deny everything to principals outside the organization: the account's own principals
    // are inside, so nothing changes for them and no residual condition remains.
    let o = org(vec![policy(
        "p-rcp-inorg",
        RESOURCE_CONTROL_POLICY,
        Some(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-abc123"},"BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}}]}"#,
        ),
    )]);
    let mut path = prod_path();
    path[0].policy_ids.push("p-rcp-inorg".into());
    let mut s = snapshot(Some(o), path);
    // A grant to another account: the RCP denies it unless that account is in the org.
    s.accounts[0].regions[0].kms.keys[0].grants = Some(vec![grant(
        "g-ext",
        "arn:aws:iam::444455556666:role/Partner",
        &["Decrypt"],
    )]);
    let a = who_can(&s, ACCT, "kms:Decrypt", KEY).unwrap();
    let admin = a.actions[0]
        .principals
        .iter()
        .find(|p| p.name == "Admin")
        .unwrap();
    assert_eq!(admin.decision, StaticDecision::Allowed);
    let ext = &a.actions[0].external;
    assert_eq!(ext.len(), 1, "{ext:?}");
    match &ext[0].decision {
        StaticDecision::Conditional { allowed_if } => {
            assert!(
                allowed_if.to_string().contains("aws:PrincipalOrgID"),
                "{allowed_if}"
            )
        }
        other => panic!("external grant under the RCP: {other:?}"),
    }
    assert_bulk_equals(&s, "kms:Decrypt", &[KEY]);
}

#[test]
fn a_kms_grant_lets_its_grantee_use_the_key_for_its_operations_only() {
    let mut s = snapshot(None, Vec::new());
    s.accounts[0].regions[0].kms.keys[0].grants = Some(vec![grant(
        "g-1",
        &format!("arn:aws:iam::{ACCT}:role/NoPolicy"),
        &["Decrypt", "GenerateDataKey"],
    )]);
    assert_eq!(allowed(&s, "kms:Decrypt", KEY), vec!["Admin", "NoPolicy"]);
    assert_eq!(allowed(&s, "kms:Encrypt", KEY), vec!["Admin"]);
    let a = who_can(&s, ACCT, "kms:Decrypt", KEY).unwrap();
    let np = a.actions[0]
        .principals
        .iter()
        .find(|p| p.name == "NoPolicy")
        .unwrap();
    assert!(
        np.grants
            .iter()
            .any(|g| g.statement.contains("KMS grant g-1")),
        "{:?}",
        np.grants
    );
    let e = explain(
        &s,
        &format!("arn:aws:iam::{ACCT}:role/NoPolicy"),
        "kms:Decrypt",
        KEY,
        &[],
    )
    .unwrap();
    assert_eq!(e.decision, Decision::Allowed);
    assert_bulk_equals(&s, "kms:Decrypt", &[KEY]);
    assert_bulk_equals(&s, "kms:Encrypt", &[KEY]);
}

#[test]
fn an_explicit_iam_deny_overrides_a_grant() {
    let mut s = snapshot(None, Vec::new());
    s.accounts[0].regions[0].kms.keys[0].grants = Some(vec![grant(
        "g-2",
        &format!("arn:aws:iam::{ACCT}:role/NoDecrypt"),
        &["Decrypt"],
    )]);
    assert!(!allowed(&s, "kms:Decrypt", KEY).contains(&"NoDecrypt".to_string()));
    let e = explain(
        &s,
        &format!("arn:aws:iam::{ACCT}:role/NoDecrypt"),
        "kms:Decrypt",
        KEY,
        &[],
    )
    .unwrap();
    assert_eq!(e.decision, Decision::ExplicitlyDenied);
    assert_bulk_equals(&s, "kms:Decrypt", &[KEY]);
}

#[test]
fn a_grant_constrained_by_encryption_context_allows_only_under_that_context() {
    let mut s = snapshot(None, Vec::new());
    let mut g = grant(
        "g-3",
        &format!("arn:aws:iam::{ACCT}:role/NoPolicy"),
        &["Decrypt"],
    );
    g.encryption_context_subset = Some(BTreeMap::from([("app".into(), "orders".into())]));
    s.accounts[0].regions[0].kms.keys[0].grants = Some(vec![g]);
    let a = who_can(&s, ACCT, "kms:Decrypt", KEY).unwrap();
    let np = a.actions[0]
        .principals
        .iter()
        .find(|p| p.name == "NoPolicy")
        .unwrap();
    match &np.decision {
        StaticDecision::Conditional { allowed_if } => {
            assert!(
                allowed_if.to_string().contains("kms:EncryptionContext:app"),
                "{allowed_if}"
            )
        }
        other => panic!("{other:?}"),
    }
    let with_context = |v: &str| {
        explain(
            &s,
            &format!("arn:aws:iam::{ACCT}:role/NoPolicy"),
            "kms:Decrypt",
            KEY,
            &[(
                "kms:EncryptionContext:app".to_string(),
                rdsguard_iam::ContextValue::Single(v.into()),
            )],
        )
        .unwrap()
        .decision
    };
    assert_eq!(with_context("orders"), Decision::Allowed);
    assert_eq!(with_context("billing"), Decision::ImplicitlyDenied);
}

#[test]
fn grants_to_other_accounts_and_services_are_external_and_uncollected_grants_are_a_caveat() {
    let mut s = snapshot(None, Vec::new());
    s.accounts[0].regions[0].kms.keys[0].grants = Some(vec![
        grant("g-4", "arn:aws:iam::444455556666:root", &["Decrypt"]),
        grant(
            "g-5",
            "rds.us-east-1.amazonaws.com",
            &["Decrypt", "CreateGrant"],
        ),
    ]);
    let a = who_can(&s, ACCT, "kms:Decrypt", KEY).unwrap();
    let mut ext: Vec<&str> = a.actions[0]
        .external
        .iter()
        .map(|e| e.principal.as_str())
        .collect();
    ext.sort();
    assert_eq!(
        ext,
        vec![
            "arn:aws:iam::444455556666:root",
            "rds.us-east-1.amazonaws.com"
        ]
    );
    assert!(a.notes.iter().all(|n| !n.contains("not evaluated")));
    assert_bulk_equals(&s, "kms:Decrypt", &[KEY]);

    let key = &mut s.accounts[0].regions[0].kms.keys[0];
    key.grants = None;
    key.grants_count = Some(3);
    let a = who_can(&s, ACCT, "kms:Decrypt", KEY).unwrap();
    assert!(
        a.notes
            .iter()
            .any(|n| n.contains("3 KMS grant(s)") && n.contains("not evaluated")),
        "{:?}",
        a.notes
    );
}

/// Keys created from one template whose policy is open to everyone (`"Principal": "*"`) share
/// their answers for the principals they do not name; answers must still be each key's own:
/// its own policy's name in the grants, its identity grants, its grants, its tags.
#[test]
fn keys_of_one_open_template_share_answers_that_stay_exact_for_each_key() {
    let key_arn = |id: &str| format!("arn:aws:kms:us-east-1:{ACCT}:key/{id}");
    let open_policy = |id: &str, extra: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"EnableIAM","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT}:root"}},"Action":"kms:*","Resource":"*"}},{{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"{}"{extra}}}]}}"#,
            key_arn(id)
        )
    };
    let mut s = snapshot(None, vec![]);
    let account = &mut s.accounts[0];
    if let Some(iam) = account.iam.as_mut() {
        iam.roles.push(role(
            "OnlyK3",
            Some(&format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"kms:Decrypt","Resource":"{}"}}]}}"#,
                key_arn("k3")
            )),
        ));
        // Principals without any policy get one answer per kind (evaluated once): a second
        // role and two users, all let in by the open statement.
        iam.roles.push(role("NoPolicyEither", None));
        for name in ["plain-user", "other-plain-user"] {
            iam.users.push(rdsguard_model::IamUser {
                name: name.into(),
                arn: format!("arn:aws:iam::{ACCT}:user/{name}"),
                ..Default::default()
            });
        }
        iam.roles.push(role(
            "AdminOfK2Family",
            Some(&format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"kms:PutKeyPolicy","Resource":"arn:aws:kms:us-east-1:{ACCT}:key/k2*"}}]}}"#
            )),
        ));
    }
    let region = &mut account.regions[0];
    let key = |id: &str, policy: String, grants: Vec<KmsGrant>, env: &str| KmsKey {
        key_id: id.into(),
        arn: key_arn(id),
        key_manager: Some("CUSTOMER".into()),
        policy: Some(policy),
        grants_count: Some(grants.len() as u32),
        grants: Some(grants),
        tags: [("env".to_string(), env.to_string())].into_iter().collect(),
        ..Default::default()
    };
    region.kms.keys.extend([
        key("k2", open_policy("k2", ""), vec![], "prod"),
        key("k3", open_policy("k3", ""), vec![], "prod"),
        // A grant to a service: part of the key, not of what the template shares.
        key(
            "k4",
            open_policy("k4", ""),
            vec![grant("g4", "rds.us-east-1.amazonaws.com", &["Decrypt"])],
            "prod",
        ),
        // A grant to a role of the account: the key shares nothing.
        key(
            "k5",
            open_policy("k5", ""),
            vec![grant(
                "g5",
                &format!("arn:aws:iam::{ACCT}:role/NoPolicy"),
                &["Decrypt"],
            )],
            "prod",
        ),
        // Its own ARN in a condition: not a template.
        key(
            "k6",
            open_policy(
                "k6",
                &format!(
                    r#","Condition":{{"StringEquals":{{"aws:SourceArn":"{}"}}}}"#,
                    key_arn("k6")
                ),
            ),
            vec![],
            "prod",
        ),
        // Same template, other tags, and a tag condition: other answers.
        key(
            "k7",
            open_policy(
                "k7",
                r#","Condition":{"StringEquals":{"aws:ResourceTag/env":"dev"}}"#,
            ),
            vec![],
            "dev",
        ),
        key(
            "k8",
            open_policy(
                "k8",
                r#","Condition":{"StringEquals":{"aws:ResourceTag/env":"dev"}}"#,
            ),
            vec![],
            "prod",
        ),
    ]);
    // The same document naming keys by a pattern: it matches ka9, not kb9.
    let by_pattern = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"EnableIAM","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT}:root"}},"Action":"kms:*","Resource":"*"}},{{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:{ACCT}:key/ka*"}}]}}"#
    );
    region.kms.keys.extend([
        key("ka9", by_pattern.clone(), vec![], "prod"),
        key("kb9", by_pattern, vec![], "prod"),
    ]);
    // One text for two keys, with a condition (whose residue names each key's policy) and
    // grants of their own: compiled under each key's name, never shared.
    let conditional = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"EnableIAM","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT}:root"}},"Action":"kms:*","Resource":"*"}},{{"Sid":"FromVpc","Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":{{"StringEquals":{{"aws:SourceVpc":"vpc-1"}}}}}}]}}"#
    );
    region.kms.keys.extend([
        key(
            "kc1",
            conditional.clone(),
            vec![grant("gc1", "rds.us-east-1.amazonaws.com", &["Decrypt"])],
            "prod",
        ),
        key(
            "kc2",
            conditional,
            vec![grant("gc2", "rds.us-east-1.amazonaws.com", &["Encrypt"])],
            "prod",
        ),
    ]);
    let keys: Vec<String> = [
        "k2", "k3", "k4", "k5", "k6", "k7", "k8", "ka9", "kb9", "kc1", "kc2",
    ]
    .iter()
    .map(|k| key_arn(k))
    .collect();
    let mut reversed: Vec<&str> = keys.iter().map(String::as_str).collect();
    for action in ["kms:Decrypt", "kms:PutKeyPolicy"] {
        assert_bulk_equals(&s, action, &reversed);
        reversed.reverse();
        assert_bulk_equals(&s, action, &reversed);
    }
    // The open statement lets every role of the account decrypt, except the denied ones.
    let names = allowed(&s, "kms:Decrypt", &keys[1]);
    assert!(names.contains(&"NoPolicy".to_string()), "{names:?}");
    assert!(!names.contains(&"OnlyK3".to_string()), "{names:?}");
    assert!(allowed(&s, "kms:Decrypt", &keys[0]).contains(&"OnlyK3".to_string()));
    // And the answers are shared where they may be: k2, k3 and k4 use one set, renamed.
    let answers = bulk_answers(&s, "kms:Decrypt", &keys);
    assert!(std::rc::Rc::ptr_eq(&answers[0].shared, &answers[1].shared));
    assert!(std::rc::Rc::ptr_eq(&answers[0].shared, &answers[2].shared));
    assert!(answers[0].renamed_policy.is_none());
    assert_eq!(
        answers[1]
            .renamed_policy
            .as_ref()
            .map(|(_, to)| to.to_string()),
        Some(format!("key policy of {}", keys[1]))
    );
    for (i, unshared) in [(3, "grant to a role"), (4, "own ARN in a condition")] {
        assert!(answers[i].shared.allows_none(), "{unshared}");
    }
    assert!(!std::rc::Rc::ptr_eq(&answers[5].shared, &answers[6].shared));
    // Everyone can decrypt with k9, not with k10 (no IAM grant for NoPolicy).
    let (k9, k10) = (
        allowed(&s, "kms:Decrypt", &keys[7]),
        allowed(&s, "kms:Decrypt", &keys[8]),
    );
    assert!(k9.contains(&"NoPolicy".to_string()) && !k10.contains(&"NoPolicy".to_string()));
    for plain in ["NoPolicyEither", "plain-user", "other-plain-user"] {
        assert!(k9.contains(&plain.to_string()), "{plain}: {k9:?}");
        assert!(!k10.contains(&plain.to_string()), "{plain}: {k10:?}");
    }
}

/// Keys whose policies differ only by the principals of the account that a statement names one
/// by one (the console's default policy names each key's administrators and users) share one
/// template: the named principals are evaluated for each key alone. A statement that also
/// names the account, or a principal the snapshot does not know, keeps its key apart.
#[test]
fn keys_naming_their_own_principals_share_a_template_and_stay_exact() {
    let key_arn = |id: &str| format!("arn:aws:kms:us-east-1:{ACCT}:key/{id}");
    let role_arn = |name: &str| format!("arn:aws:iam::{ACCT}:role/{name}");
    let naming = |id: &str, named: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"EnableIAM","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT}:root"}},"Action":"kms:*","Resource":"*"}},{{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"{}"}},{named}]}}"#,
            key_arn(id)
        )
    };
    let users_and_admins = |users: &[&str], admins: &[&str]| {
        let list = |names: &[&str]| {
            let arns: Vec<String> = names
                .iter()
                .map(|n| format!("\"{}\"", role_arn(n)))
                .collect();
            arns.join(",")
        };
        format!(
            r#"{{"Sid":"Users","Effect":"Allow","Principal":{{"AWS":[{}]}},"Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*"}},{{"Sid":"Admins","Effect":"Allow","Principal":{{"AWS":[{}]}},"Action":["kms:PutKeyPolicy","kms:ScheduleKeyDeletion"],"Resource":"*"}}"#,
            list(users),
            list(admins)
        )
    };
    let mut s = snapshot(None, vec![]);
    let account = &mut s.accounts[0];
    if let Some(iam) = account.iam.as_mut() {
        iam.roles.push(role("KeyAdmin", None));
        iam.roles.push(role("AppA", None));
        iam.roles.push(role(
            "AppB",
            Some(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:PutKeyPolicy","Resource":"*"}]}"#,
            ),
        ));
    }
    let region = &mut account.regions[0];
    let key = |id: &str, named: String| KmsKey {
        key_id: id.into(),
        arn: key_arn(id),
        key_manager: Some("CUSTOMER".into()),
        policy: Some(naming(id, &named)),
        grants_count: Some(0),
        grants: Some(Vec::new()),
        ..Default::default()
    };
    let deny_named = format!(
        r#"{{"Sid":"NoAdmin","Effect":"Deny","Principal":{{"AWS":"{}"}},"Action":"kms:*","Resource":"*"}}"#,
        role_arn("Admin")
    );
    let with_account = format!(
        r#"{{"Sid":"Users","Effect":"Allow","Principal":{{"AWS":["{}","{ACCT}"]}},"Action":"kms:PutKeyPolicy","Resource":"*"}}"#,
        role_arn("AppA")
    );
    let unknown = format!(
        r#"{{"Sid":"Users","Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"kms:PutKeyPolicy","Resource":"*"}}"#,
        role_arn("Gone")
    );
    region.kms.keys.extend([
        key("kn1", users_and_admins(&["AppA"], &["KeyAdmin"])),
        key("kn2", users_and_admins(&["AppB", "NoPolicy"], &["AppB"])),
        key("kn3", users_and_admins(&["NoDecrypt"], &["Admin", "AppA"])),
        key("kn4", deny_named),
        key("kn5", with_account),
        key("kn6", unknown),
    ]);
    let keys: Vec<String> = ["kn1", "kn2", "kn3", "kn4", "kn5", "kn6"]
        .iter()
        .map(|k| key_arn(k))
        .collect();
    let mut order: Vec<&str> = keys.iter().map(String::as_str).collect();
    for action in ["kms:Decrypt", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"] {
        assert_bulk_equals(&s, action, &order);
        order.reverse();
        assert_bulk_equals(&s, action, &order);
    }
    // Each key's named principals get that key's answer.
    let admins = |k: &str| allowed(&s, "kms:PutKeyPolicy", k);
    assert!(admins(&keys[0]).contains(&"KeyAdmin".to_string()));
    assert!(!admins(&keys[1]).contains(&"KeyAdmin".to_string()));
    assert!(
        !admins(&keys[1]).contains(&"AppB".to_string()),
        "denied by its IAM policy"
    );
    assert!(admins(&keys[2]).contains(&"AppA".to_string()));
    assert!(
        !admins(&keys[3]).contains(&"Admin".to_string()),
        "denied by the key"
    );
    // Naming the account delegates to IAM: NoPolicy gets nothing from it.
    assert!(admins(&keys[4]).contains(&"AppA".to_string()));
    assert!(!admins(&keys[4]).contains(&"NoPolicy".to_string()));
    // Shared where the statements name principals of the model only. (Decrypt: the open
    // statement makes these keys templates; for the other actions their policies only name
    // principals and delegate, which every key shares anyway.)
    let answers = bulk_answers(&s, "kms:Decrypt", &keys);
    assert!(std::rc::Rc::ptr_eq(&answers[0].shared, &answers[1].shared));
    assert!(std::rc::Rc::ptr_eq(&answers[0].shared, &answers[2].shared));
    for (i, apart) in [
        (3, "other statements"),
        (4, "the account named"),
        (5, "unknown role"),
    ] {
        assert!(
            !std::rc::Rc::ptr_eq(&answers[0].shared, &answers[i].shared),
            "{apart}"
        );
    }
}

/// An SCP that names one key (or reads its tags) decides differently for keys whose policies
/// are alike: their answers must not be shared.
#[test]
fn keys_alike_but_for_a_resource_specific_scp_get_their_own_answers() {
    let key_arn = |id: &str| format!("arn:aws:kms:us-east-1:{ACCT}:key/{id}");
    let delegating = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"EnableIAM","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#
    );
    let open = |id: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"EnableIAM","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT}:root"}},"Action":"kms:*","Resource":"*"}},{{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"{}"}}]}}"#,
            key_arn(id)
        )
    };
    for (scp, first, second) in [
        (
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"kms:Decrypt","Resource":"{}"}}]}}"#,
                key_arn("ka")
            ),
            "ka",
            "kb",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/env":"prod"}}}]}"#
                .to_string(),
            "ka",
            "kb",
        ),
    ] {
        let delegating_to_iam = |_: &str| delegating.clone();
        let policies: [&dyn Fn(&str) -> String; 2] = [&delegating_to_iam, &open];
        for policy_of in policies {
            let o = org(vec![policy("p-denykey", SERVICE_CONTROL_POLICY, Some(&scp))]);
            let path = vec![
                target("r-root", "ROOT", &["p-FullAWSAccess"]),
                target(ACCT, "ACCOUNT", &["p-FullAWSAccess", "p-denykey"]),
            ];
            let mut s = snapshot(Some(o), path);
            let region = &mut s.accounts[0].regions[0];
            for (id, env) in [(first, "prod"), (second, "dev")] {
                region.kms.keys.push(KmsKey {
                    key_id: id.into(),
                    arn: key_arn(id),
                    key_manager: Some("CUSTOMER".into()),
                    policy: Some(policy_of(id)),
                    grants_count: Some(0),
                    grants: Some(Vec::new()),
                    tags: [("env".to_string(), env.to_string())].into_iter().collect(),
                    ..Default::default()
                });
            }
            let (a, b) = (key_arn(first), key_arn(second));
            assert_ne!(
                allowed(&s, "kms:Decrypt", &a),
                allowed(&s, "kms:Decrypt", &b),
                "{scp}"
            );
            assert_bulk_equals(&s, "kms:Decrypt", &[&a, &b, &a]);
            assert_bulk_equals(&s, "kms:Decrypt", &[&b, &a]);
        }
    }
}

/// Keys of one template share answers whatever their tags, unless the template reads them:
/// then keys tagged differently get different answers, each exact.
#[test]
fn keys_of_a_template_that_reads_tags_share_answers_only_when_tagged_alike() {
    let key_arn = |id: &str| format!("arn:aws:kms:us-east-1:{ACCT}:key/{id}");
    let policy_of = |id: &str, condition: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"EnableIAM","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT}:root"}},"Action":"kms:*","Resource":"*"}},{{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"{}"{condition}}}]}}"#,
            key_arn(id)
        )
    };
    let by_tag = r#","Condition":{"StringEquals":{"aws:ResourceTag/env":"prod"}}"#;
    for condition in ["", by_tag] {
        let mut s = snapshot(None, vec![]);
        let region = &mut s.accounts[0].regions[0];
        for (id, env) in [("ka", "prod"), ("kb", "dev"), ("kc", "prod")] {
            region.kms.keys.push(KmsKey {
                key_id: id.into(),
                arn: key_arn(id),
                key_manager: Some("CUSTOMER".into()),
                policy: Some(policy_of(id, condition)),
                grants_count: Some(0),
                grants: Some(Vec::new()),
                tags: [("env".to_string(), env.to_string())].into_iter().collect(),
                ..Default::default()
            });
        }
        let (a, b, c) = (key_arn("ka"), key_arn("kb"), key_arn("kc"));
        let (on_a, on_b) = (
            allowed(&s, "kms:Decrypt", &a),
            allowed(&s, "kms:Decrypt", &b),
        );
        assert!(on_a.contains(&"NoPolicy".to_string()));
        assert_eq!(
            on_b.contains(&"NoPolicy".to_string()),
            condition.is_empty(),
            "{condition}"
        );
        assert_eq!(allowed(&s, "kms:Decrypt", &c), on_a);
        assert_bulk_equals(&s, "kms:Decrypt", &[&a, &b, &c, &a]);
        assert_bulk_equals(&s, "kms:Decrypt", &[&b, &a, &c]);
    }
}

/// The usual "approved regions" SCP: a request goes to the endpoint of the region its
/// resource is in, so the answer is definite in each region, not conditional on
/// `aws:RequestedRegion`; and answers shared between resources never cross regions where the
/// SCP makes them differ.
#[test]
fn an_scp_denying_unapproved_regions_decides_by_the_resources_region() {
    const EU_DB: &str = "arn:aws:rds:eu-west-1:111122223333:db:eu-orders";
    const EU_KEY: &str = "arn:aws:kms:eu-west-1:111122223333:key/k2";
    let regions_only = policy(
        "p-regions",
        SERVICE_CONTROL_POLICY,
        Some(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["iam:*","sts:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}}]}"#,
        ),
    );
    let mut o = org(vec![regions_only]);
    o.policies.retain(|p| p.id != "p-protectprod");
    let mut s = snapshot(Some(o), path_through("ou-eu", &["p-regions"]));
    let mut eu = RegionSnapshot::new("eu-west-1");
    eu.rds.db_instances = vec![db(EU_DB)];
    let mut key = s.accounts[0].regions[0].kms.keys[0].clone();
    key.key_id = "k2".into();
    key.arn = EU_KEY.into();
    eu.kms.keys.push(key);
    s.accounts[0].regions.push(eu);

    assert_eq!(
        allowed(&s, "rds:DeleteDBInstance", DEV_DB),
        vec!["AWSServiceRoleForRDS"]
    );
    assert_eq!(
        allowed(&s, "rds:DeleteDBInstance", EU_DB),
        vec!["AWSServiceRoleForRDS", "Admin"]
    );
    let a = who_can(&s, ACCT, "rds:DeleteDBInstance", EU_DB).unwrap();
    let admin = a.actions[0]
        .principals
        .iter()
        .find(|p| p.name == "Admin")
        .unwrap();
    assert_eq!(admin.decision, StaticDecision::Allowed);
    assert_eq!(allowed(&s, "kms:Decrypt", KEY), Vec::<String>::new());
    assert_eq!(allowed(&s, "kms:Decrypt", EU_KEY), vec!["Admin"]);
    for action in ["rds:DeleteDBInstance", "rds:ModifyDBInstance"] {
        assert_bulk_equals(&s, action, &[DEV_DB, EU_DB, PROD_DB]);
        assert_bulk_equals(&s, action, &[EU_DB, DEV_DB]);
    }
    assert_bulk_equals(&s, "kms:Decrypt", &[KEY, EU_KEY, KEY]);
    assert_bulk_equals(&s, "kms:Decrypt", &[EU_KEY, KEY]);
    // Explaining one request reads the region from the resource too, unless given.
    let admin_arn = format!("arn:aws:iam::{ACCT}:role/Admin");
    let e = explain(&s, &admin_arn, "rds:DeleteDBInstance", DEV_DB, &[]).unwrap();
    assert_eq!(e.decision, Decision::ExplicitlyDenied);
    let e = explain(&s, &admin_arn, "rds:DeleteDBInstance", EU_DB, &[]).unwrap();
    assert_eq!(e.decision, Decision::Allowed);

    // The same condition in an identity policy, without the SCP.
    s.organization = None;
    s.accounts[0].org_path.clear();
    if let Some(iam) = s.accounts[0].iam.as_mut() {
        iam.roles.push(role(
            "UsOnly",
            Some(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}]}"#,
            ),
        ));
    }
    assert_eq!(
        allowed(&s, "rds:DeleteDBInstance", DEV_DB),
        vec!["AWSServiceRoleForRDS", "Admin", "UsOnly"]
    );
    assert_eq!(
        allowed(&s, "rds:DeleteDBInstance", EU_DB),
        vec!["AWSServiceRoleForRDS", "Admin"]
    );
    assert_bulk_equals(&s, "rds:DeleteDBInstance", &[DEV_DB, EU_DB, PROD_DB]);
    assert_bulk_equals(&s, "rds:DeleteDBInstance", &[EU_DB, DEV_DB]);
}

/// The bulk who-can reads ARNs in place and parses them only when a policy names resources:
/// an ARN written with upper-case letters in its prefix is matched as AWS matches it
/// (partition, service, region and account without case), as `who_can` does.
#[test]
fn policies_naming_a_database_match_its_arn_whatever_the_case_of_its_prefix() {
    const UPPER: &str = "arn:aws:rds:US-EAST-1:111122223333:db:Upper";
    const LOWER_NAMED: &str = "arn:aws:rds:us-east-1:111122223333:db:Upper";
    let mut s = snapshot(None, Vec::new());
    s.accounts[0].regions[0].rds.db_instances.push(db(UPPER));
    if let Some(iam) = s.accounts[0].iam.as_mut() {
        iam.roles.push(role(
            "OneDb",
            Some(&format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"rds:DeleteDBInstance","Resource":"{LOWER_NAMED}"}}]}}"#
            )),
        ));
        iam.roles.push(role(
            "DevDbs",
            Some(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds:DeleteDBInstance","Resource":"arn:aws:rds:*:*:db:dev-*"}]}"#,
            ),
        ));
    }
    assert_eq!(
        allowed(&s, "rds:DeleteDBInstance", UPPER),
        vec!["AWSServiceRoleForRDS", "Admin", "OneDb"]
    );
    assert_eq!(
        allowed(&s, "rds:DeleteDBInstance", DEV_DB),
        vec!["AWSServiceRoleForRDS", "Admin", "DevDbs"]
    );
    assert_bulk_equals(&s, "rds:DeleteDBInstance", &[UPPER, DEV_DB, PROD_DB, UPPER]);
    assert_bulk_equals(&s, "rds:DeleteDBInstance", &[PROD_DB, LOWER_NAMED, UPPER]);
}

/// `kms:CallerAccount` is the account of the principal making a KMS request: known for the
/// account's principals and for principals of another account a key policy names, absent
/// from requests to other services.
#[test]
fn the_caller_account_of_a_kms_request_is_the_principals_account() {
    const OTHER: &str = "444455556666";
    let mut s = snapshot(None, Vec::new());
    s.accounts[0].regions[0].kms.keys[0].policy = Some(format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Sid":"OwnAccount","Effect":"Allow","Principal":{{"AWS":"*"}},"Action":"kms:Decrypt","Resource":"*","Condition":{{"StringEquals":{{"kms:CallerAccount":"{ACCT}"}}}}}},
            {{"Sid":"Partner","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{OTHER}:root"}},"Action":"kms:Decrypt","Resource":"*","Condition":{{"StringEquals":{{"kms:CallerAccount":"{OTHER}"}}}}}},
            {{"Sid":"Mismatch","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{OTHER}:root"}},"Action":"kms:Encrypt","Resource":"*","Condition":{{"StringEquals":{{"kms:CallerAccount":"{ACCT}"}}}}}}
        ]}}"#
    ));
    if let Some(iam) = s.accounts[0].iam.as_mut() {
        iam.roles.push(role(
            "KmsCallerOnly",
            Some(&format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"rds:*","Resource":"*","Condition":{{"StringEquals":{{"kms:CallerAccount":"{ACCT}"}}}}}}]}}"#
            )),
        ));
    }
    let a = who_can(&s, ACCT, "kms:Decrypt", KEY).unwrap();
    let decision = |name: &str| {
        a.actions[0]
            .principals
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.decision.clone())
    };
    // The key policy alone lets every principal of the account in (NoDecrypt's own deny
    // still wins), with no condition left.
    assert_eq!(decision("NoPolicy"), Some(StaticDecision::Allowed));
    assert_eq!(decision("Admin"), Some(StaticDecision::Allowed));
    assert_eq!(decision("NoDecrypt"), None);
    let partner: Vec<_> = a.actions[0]
        .external
        .iter()
        .filter(|g| g.principal.contains(OTHER))
        .collect();
    assert_eq!(partner.len(), 1, "{:?}", a.actions[0].external);
    assert_eq!(partner[0].decision, StaticDecision::Allowed);
    let encrypt = who_can(&s, ACCT, "kms:Encrypt", KEY).unwrap();
    assert!(
        encrypt.actions[0]
            .external
            .iter()
            .all(|g| !g.principal.contains(OTHER)),
        "{:?}",
        encrypt.actions[0].external
    );
    // An RDS request has no kms:CallerAccount: the condition fails.
    assert_eq!(
        allowed(&s, "rds:DeleteDBInstance", DEV_DB),
        vec!["AWSServiceRoleForRDS", "Admin"]
    );
    for action in ["kms:Decrypt", "kms:Encrypt"] {
        assert_bulk_equals(&s, action, &[KEY]);
    }
    assert_bulk_equals(&s, "rds:DeleteDBInstance", &[DEV_DB, PROD_DB]);
    let e = explain(
        &s,
        &format!("arn:aws:iam::{ACCT}:role/NoPolicy"),
        "kms:Decrypt",
        KEY,
        &[],
    )
    .unwrap();
    assert_eq!(e.decision, Decision::Allowed);
}
