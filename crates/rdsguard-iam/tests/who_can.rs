//! who-can, explain and DB resolution over a small snapshot.

use rdsguard_iam::account::{Attachment, resolve_db, who_can};
use rdsguard_iam::{ContextValue, Decision, StaticDecision, explain};
use rdsguard_model::{
    AccountSnapshot, DbInstance, IamData, IamGroup, IamRole, IamUser, InlinePolicy, KmsKey,
    ManagedPolicy, RegionSnapshot, Snapshot, SnapshotSource,
};

const ACCT: &str = "111122223333";
const DB: &str = "arn:aws:rds:us-east-1:111122223333:db:orders";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/k1";

fn user(name: &str, groups: &[&str], inline: &[(&str, &str)], managed: &[&str]) -> IamUser {
    IamUser {
        name: name.into(),
        arn: format!("arn:aws:iam::{ACCT}:user/{name}"),
        user_id: Some(format!("AIDA{}", name.to_uppercase())),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        inline_policies: inline
            .iter()
            .map(|(n, d)| InlinePolicy {
                name: n.to_string(),
                document: d.to_string(),
            })
            .collect(),
        attached_policy_arns: managed.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

fn role(name: &str, managed: &[&str], boundary: Option<&str>) -> IamRole {
    IamRole {
        name: name.into(),
        arn: format!("arn:aws:iam::{ACCT}:role/{name}"),
        attached_policy_arns: managed.iter().map(|s| s.to_string()).collect(),
        permissions_boundary_arn: boundary.map(str::to_string),
        ..Default::default()
    }
}

fn managed(name: &str, doc: &str) -> ManagedPolicy {
    ManagedPolicy {
        arn: format!("arn:aws:iam::{ACCT}:policy/{name}"),
        name: Some(name.into()),
        document: Some(doc.into()),
        ..Default::default()
    }
}

fn snapshot() -> Snapshot {
    let admin =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let rds_all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds:*","Resource":"*"}]}"#;
    let ec2_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#;
    let iam = IamData {
        users: vec![
            user("alice", &["admins"], &[], &[]),
            user(
                "bob",
                &[],
                &[(
                    "describe",
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds:Describe*","Resource":"*"}]}"#,
                )],
                &[],
            ),
            user(
                "carol",
                &[],
                &[(
                    "office-only",
                    r#"{"Version":"2012-10-17","Statement":[{"Sid":"FromOffice","Effect":"Allow","Action":"rds:DeleteDBInstance","Resource":"arn:aws:rds:*:111122223333:db:*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}"#,
                )],
                &[],
            ),
            user(
                "dave",
                &[],
                &[],
                &["arn:aws:iam::111122223333:policy/Missing"],
            ),
        ],
        groups: vec![IamGroup {
            name: "admins".into(),
            arn: format!("arn:aws:iam::{ACCT}:group/admins"),
            attached_policy_arns: vec![format!("arn:aws:iam::{ACCT}:policy/Admin")],
            ..Default::default()
        }],
        roles: vec![
            role(
                "Bounded",
                &[&format!("arn:aws:iam::{ACCT}:policy/RdsAll")],
                Some(&format!("arn:aws:iam::{ACCT}:policy/Ec2Only")),
            ),
            role("KeyUser", &[], None),
            {
                let mut r = role(
                    "Dba",
                    &[&format!("arn:aws:iam::{ACCT}:policy/RdsAll")],
                    None,
                );
                r.inline_policies.push(InlinePolicy {
                    name: "mfa".into(),
                    document: r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoDeleteWithoutMfa","Effect":"Deny","Action":"rds:Delete*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#.into(),
                });
                r
            },
        ],
        policies: vec![
            managed("Admin", admin),
            managed("RdsAll", rds_all),
            managed("Ec2Only", ec2_only),
        ],
    };
    let mut region = RegionSnapshot::new("us-east-1");
    region.rds.db_instances.push(DbInstance {
        db_instance_identifier: "orders".into(),
        db_instance_arn: DB.into(),
        engine: "postgres".into(),
        ..Default::default()
    });
    region.kms.keys.push(KmsKey {
        key_id: "k1".into(),
        arn: KEY.into(),
        key_manager: Some("CUSTOMER".into()),
        policy: Some(
            r#"{"Version":"2012-10-17","Statement":[
              {"Sid":"EnableIAM","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},
              {"Sid":"KeyUser","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/KeyUser"},"Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*"},
              {"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"rds.us-east-1.amazonaws.com"}}}
            ]}"#
            .into(),
        ),
        grants_count: Some(2),
        ..Default::default()
    });
    let mut s = Snapshot::new(
        SnapshotSource {
            kind: "test".into(),
            endpoint_url: None,
            regions: vec!["us-east-1".into()],
        },
        "2026-06-01T00:00:00Z",
    );
    s.accounts.push(AccountSnapshot {
        account_id: ACCT.into(),
        partition: "aws".into(),
        iam: Some(iam),
        regions: vec![region],
        gaps: vec![],
        ..Default::default()
    });
    s
}

fn principal_decision<'a>(
    a: &'a rdsguard_iam::WhoCanAnswer,
    name: &str,
) -> Option<&'a StaticDecision> {
    a.actions[0]
        .principals
        .iter()
        .find(|p| p.name == name)
        .map(|p| &p.decision)
}

#[test]
fn who_can_delete_the_db() {
    let s = snapshot();
    let a = who_can(&s, ACCT, "rds:DeleteDBInstance", DB).unwrap();
    assert_eq!(a.resource_type.as_deref(), Some("db"));
    assert_eq!(
        principal_decision(&a, "alice"),
        Some(&StaticDecision::Allowed)
    );
    // alice's grant comes through her group.
    let alice = a.actions[0]
        .principals
        .iter()
        .find(|p| p.name == "alice")
        .unwrap();
    assert!(alice.grants.iter().any(|g| g.attachment
        == Attachment::GroupManaged {
            group: "admins".into()
        }));
    assert_eq!(principal_decision(&a, "bob"), None);
    // carol: only from the office network.
    match principal_decision(&a, "carol") {
        Some(StaticDecision::Conditional { allowed_if }) => {
            assert!(
                allowed_if.to_string().contains("aws:SourceIp"),
                "{allowed_if}"
            )
        }
        other => panic!("carol: {other:?}"),
    }
    // Bounded: identity allows rds:* but the boundary only ec2.
    assert_eq!(principal_decision(&a, "Bounded"), None);
    // Dba: allowed unless MFA is absent/false.
    match principal_decision(&a, "Dba") {
        Some(StaticDecision::Conditional { allowed_if }) => {
            let t = allowed_if.to_string();
            assert!(
                t.contains("not") && t.contains("aws:MultiFactorAuthPresent"),
                "{t}"
            )
        }
        other => panic!("Dba: {other:?}"),
    }
    // dave's policy is missing from the snapshot: no grant, but not silently: he is not
    // allowed and the model records why.
    assert_eq!(principal_decision(&a, "dave"), None);
    assert!(a.notes.iter().any(|n| n.contains("SCPs")));
}

#[test]
fn wildcard_actions_expand_to_applicable_ones() {
    let s = snapshot();
    let a = who_can(&s, ACCT, "rds:Delete*", DB).unwrap();
    let names: Vec<&str> = a.actions.iter().map(|x| x.action.as_str()).collect();
    // DeleteTenantDatabase also applies to a DB instance; DeleteDBCluster does not.
    assert_eq!(
        names,
        vec!["rds:DeleteDBInstance", "rds:DeleteTenantDatabase"]
    );
    assert!(who_can(&s, ACCT, "rds:Bogus*", DB).is_err());
}

#[test]
fn who_can_decrypt_with_the_key() {
    let s = snapshot();
    let a = who_can(&s, ACCT, "kms:Decrypt", KEY).unwrap();
    // alice via IAM (root delegation), KeyUser via the key policy, bob nothing.
    assert_eq!(
        principal_decision(&a, "alice"),
        Some(&StaticDecision::Allowed)
    );
    assert_eq!(
        principal_decision(&a, "KeyUser"),
        Some(&StaticDecision::Allowed)
    );
    assert_eq!(principal_decision(&a, "bob"), None);
    let ext = &a.actions[0].external;
    assert_eq!(ext.len(), 1, "{ext:?}");
    assert_eq!(ext[0].principal, "arn:aws:iam::999988887777:root");
    assert!(matches!(
        ext[0].decision,
        StaticDecision::Conditional { .. }
    ));
    assert!(a.notes.iter().any(|n| n.contains("grant")));
}

#[test]
fn a_key_missing_from_the_snapshot_is_not_answered() {
    // Its key policy decides: without it, no answer (not "nobody").
    let s = snapshot();
    let missing = "arn:aws:kms:us-east-1:111122223333:key/not-collected";
    let err = who_can(&s, ACCT, "kms:Decrypt", missing).unwrap_err();
    assert!(err.to_string().contains("not in the snapshot"), "{err}");
    // A database is answered from IAM alone, whatever its name.
    let db = "arn:aws:rds:us-east-1:111122223333:db:kms";
    assert!(who_can(&s, ACCT, "rds:DeleteDBInstance", db).is_ok());
}

#[test]
fn explain_like_the_policy_simulator() {
    let s = snapshot();
    let carol = format!("arn:aws:iam::{ACCT}:user/carol");
    let e = explain(
        &s,
        &carol,
        "rds:DeleteDBInstance",
        DB,
        &[(
            "aws:SourceIp".into(),
            ContextValue::Single("203.0.113.9".into()),
        )],
    )
    .unwrap();
    assert_eq!(e.decision, Decision::Allowed);
    assert_eq!(e.deciding.len(), 1);
    assert_eq!(&*e.deciding[0].statement, "FromOffice");
    let e = explain(&s, &carol, "rds:DeleteDBInstance", DB, &[]).unwrap();
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert!(e.statements.iter().any(|t| &*t.statement == "FromOffice"));
    let dba = format!("arn:aws:sts::{ACCT}:assumed-role/Dba/session");
    let e = explain(&s, &dba, "rds:DeleteDBInstance", DB, &[]).unwrap();
    assert_eq!(e.decision, Decision::ExplicitlyDenied);
    assert_eq!(&*e.deciding[0].statement, "NoDeleteWithoutMfa");
    let text = rdsguard_iam::render::explanation_text(&e);
    assert!(text.contains("ExplicitlyDenied"), "{text}");
    assert!(
        explain(
            &s,
            "arn:aws:iam::111122223333:user/nobody",
            "rds:DeleteDBInstance",
            DB,
            &[]
        )
        .is_err()
    );
    // Identity allows kms but the key is needed: bob has no KMS permission at all.
    let bob = format!("arn:aws:iam::{ACCT}:user/bob");
    assert_eq!(
        explain(&s, &bob, "kms:Decrypt", KEY, &[]).unwrap().decision,
        Decision::ImplicitlyDenied
    );
}

#[test]
fn resolves_db_identifiers() {
    let s = snapshot();
    let r = resolve_db(&s, "orders");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].arn, DB);
    assert_eq!(r[0].resource_type, "db");
    assert_eq!(resolve_db(&s, DB).len(), 1);
    assert!(resolve_db(&s, "nope").is_empty());
}

#[test]
fn text_rendering_mentions_conditions() {
    let s = snapshot();
    let a = who_can(&s, ACCT, "rds:DeleteDBInstance", DB).unwrap();
    let t = rdsguard_iam::render::who_can_text(&a);
    assert!(t.contains("ALLOWED IF"), "{t}");
    assert!(t.contains("alice"));
    let json = serde_json::to_string(&a).unwrap();
    assert!(json.contains("\"conditional\""), "{json}");
}

/// A policy text used in several places is read once, but each use keeps its own name: in
/// the grants it gives and in the problems it has.
#[test]
fn one_policy_text_in_several_places_keeps_each_ones_name() {
    let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds:DeleteDBInstance","Resource":"*"}]}"#;
    let broken = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"rds:*","Resource":"*"}]}"#;
    let mut s = snapshot();
    let iam = s.accounts[0].iam.as_mut().unwrap();
    iam.users.push(user(
        "erin",
        &[],
        &[("deletes", text), ("bad", broken)],
        &[],
    ));
    iam.users.push(user(
        "frank",
        &[],
        &[("deletes-too", text), ("bad-too", broken)],
        &[],
    ));
    iam.policies.push(managed("Deletes", text));
    iam.roles.push(role(
        "Deleter",
        &[&format!("arn:aws:iam::{ACCT}:policy/Deletes")],
        None,
    ));
    let a = who_can(&s, ACCT, "rds:DeleteDBInstance", DB).unwrap();
    let grant_of = |name: &str| {
        let p = a.actions[0]
            .principals
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("{name} not allowed"));
        p.grants
            .iter()
            .map(|g| g.policy.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        grant_of("erin"),
        vec![format!("arn:aws:iam::{ACCT}:user/erin inline deletes")]
    );
    assert_eq!(
        grant_of("frank"),
        vec![format!("arn:aws:iam::{ACCT}:user/frank inline deletes-too")]
    );
    assert_eq!(
        grant_of("Deleter"),
        vec![format!("arn:aws:iam::{ACCT}:policy/Deletes")]
    );
    let model = rdsguard_iam::AccountModel::build_in(&s, &s.accounts[0]).unwrap();
    let problems: Vec<&str> = model.issues.iter().map(|i| i.policy.as_str()).collect();
    assert!(problems.contains(&format!("arn:aws:iam::{ACCT}:user/erin inline bad").as_str()));
    assert!(
        problems.contains(&format!("arn:aws:iam::{ACCT}:user/frank inline bad-too").as_str()),
        "{problems:?}"
    );
    // Each problem names its own policy, and only it.
    for issue in &model.issues {
        assert!(issue.problem.contains(&issue.policy), "{issue:?}");
        let others = ["erin inline bad", "frank inline bad-too"]
            .into_iter()
            .filter(|o| !issue.policy.ends_with(o));
        for other in others {
            assert!(!issue.problem.contains(other), "{issue:?}");
        }
    }
}

#[test]
fn a_conditional_text_in_several_places_names_each_one_in_its_conditions() {
    let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds:DeleteDBInstance","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#;
    let mut s = snapshot();
    let iam = s.accounts[0].iam.as_mut().unwrap();
    for name in ["gina", "hugo"] {
        iam.users
            .push(user(name, &[], &[(&format!("{name}-deletes"), text)], &[]));
    }
    let a = who_can(&s, ACCT, "rds:DeleteDBInstance", DB).unwrap();
    for name in ["gina", "hugo"] {
        let Some(StaticDecision::Conditional { allowed_if }) = principal_decision(&a, name) else {
            panic!("{name}: not allowed under a condition");
        };
        let json = serde_json::to_string(allowed_if).unwrap();
        let own = format!("arn:aws:iam::{ACCT}:user/{name} inline {name}-deletes");
        assert!(json.contains(&own), "{name}: {json}");
    }
}

/// A role listed twice (IAM data AWS never returns; a snapshot edited or merged by hand):
/// answered once, from its first entry, and marked incomplete instead of counted twice or
/// silently taking one entry's policies.
#[test]
fn a_principal_listed_twice_is_answered_once_and_incomplete() {
    let mut s = snapshot();
    let first = who_can(&s, ACCT, "rds:DeleteDBInstance", DB).unwrap();
    let dba = |a: &rdsguard_iam::WhoCanAnswer| {
        a.actions[0]
            .principals
            .iter()
            .filter(|p| p.name == "Dba")
            .count()
    };
    assert_eq!(dba(&first), 1);
    let iam = s.accounts[0].iam.as_mut().unwrap();
    let again = iam.roles.iter().find(|r| r.name == "Dba").unwrap().clone();
    iam.roles.push(IamRole {
        attached_policy_arns: Vec::new(),
        ..again
    });
    let model = rdsguard_iam::AccountModel::build_in(&s, &s.accounts[0]).unwrap();
    let entries: Vec<_> = model
        .principals
        .iter()
        .filter(|p| p.name == "Dba")
        .collect();
    assert_eq!(entries.len(), 1);
    assert!(
        entries[0]
            .incomplete
            .iter()
            .any(|m| m.contains("listed more than once")),
        "{:?}",
        entries[0].incomplete
    );
    let twice = who_can(&s, ACCT, "rds:DeleteDBInstance", DB).unwrap();
    assert_eq!(dba(&twice), 1);
    let dba_answer = twice.actions[0]
        .principals
        .iter()
        .find(|p| p.name == "Dba")
        .unwrap();
    assert!(
        dba_answer
            .incomplete
            .iter()
            .any(|m| m.contains("listed more than once")),
        "{dba_answer:?}"
    );
}
