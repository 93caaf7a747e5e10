//! The bulk who-can shares work between resources (answers of keys made from one policy
//! template, answers of resources without a policy, one answer for principals alike, one
//! answer for the plain resources of a list) and must still give every resource exactly
//! `who_can`'s answer. Random small accounts: principals with policies drawn from a pool
//! (some naming databases and snapshots exactly or by a pattern), KMS keys whose policies
//! combine the statements real key policies have (delegation to IAM, `*` with and without
//! conditions, statements naming the account's principals one by one, denies,
//! `NotPrincipal`, tag conditions) with grants, tagged databases, and manual, automated and
//! shared snapshots; every resource asked in turn, in two orders, by ARN and by place, and a
//! database the snapshot does not have. Some accounts list a role twice (an inconsistent
//! snapshot). Managed policies from the same pool are attached to roles, users and groups
//! (users in groups, some principals with a boundary): principals evaluated for a resource
//! then share policies, attached alike or not.

mod common;
use common::Rng;
use proptest::prelude::*;
use std::rc::Rc;

use rdsguard_iam::account::{WhoCanAnswer, who_can};
use rdsguard_iam::{AccountModel, BulkWhoCan, Place, PlaceKind, RequestError, ResourceAnswer};
use rdsguard_model::{
    AccountSnapshot, DbInstance, DbSnapshot, IamData, IamGroup, IamRole, IamUser, InlinePolicy,
    KmsGrant, KmsKey, ManagedPolicy, RegionSnapshot, Snapshot, SnapshotSource,
};
use serde_json::{Value, json};

const A: &str = "111122223333";
const REGION: &str = "us-east-1";
const ROLES: &[&str] = &["app-0", "app-1", "app-2", "admin", "ops"];
const USERS: &[&str] = &["alice", "bob", "carol", "dave"];
const GROUPS: &[&str] = &["team-0", "team-1"];
const MANAGED: usize = 4;
const ACTIONS: &[&str] = &[
    "kms:Decrypt",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "rds:DeleteDBInstance",
    "rds:ModifyDBInstance",
    "rds:DeleteDBSnapshot",
];
const KEYS: usize = 6;
const DBS: usize = 6;
const SNAPSHOTS: usize = 6;

fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{A}:role/{name}")
}

fn user_arn(name: &str) -> String {
    format!("arn:aws:iam::{A}:user/{name}")
}

fn key_arn(i: usize) -> String {
    format!("arn:aws:kms:{REGION}:{A}:key/k{i}")
}

/// Manual and automated snapshots, and one shared by another account (its ARN is the
/// owner's): three ARN shapes in one list.
fn snapshot_arn(i: usize) -> String {
    match i % 3 {
        0 => format!("arn:aws:rds:{REGION}:{A}:snapshot:manual-{i}"),
        1 => format!("arn:aws:rds:{REGION}:{A}:snapshot:rds:auto-{i}"),
        _ => format!("arn:aws:rds:{REGION}:444455556666:snapshot:shared-{i}"),
    }
}

fn db_arn(i: usize) -> String {
    format!(
        "arn:aws:rds:{REGION}:{A}:db:{}-{i}",
        if i.is_multiple_of(2) { "prod" } else { "dev" }
    )
}

fn managed_arn(i: usize) -> String {
    format!("arn:aws:iam::{A}:policy/m{i}")
}

/// An identity policy from the pool, or none.
fn identity_policy(rng: &mut Rng) -> Option<String> {
    let statement = pool_statement(rng)?;
    Some(json!({"Version": "2012-10-17", "Statement": [statement]}).to_string())
}

/// A managed policy: one or two statements of the pool (a statement naming a resource beside
/// one that reads the request, now and then).
fn managed_policy(rng: &mut Rng) -> String {
    let statements: Vec<Value> = (0..1 + rng.below(2))
        .filter_map(|_| pool_statement(rng))
        .collect();
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// Some of the managed policies, by ARN.
fn attached(rng: &mut Rng, most: usize) -> Vec<String> {
    let mut arns: Vec<String> = (0..rng.below(most + 1))
        .map(|_| managed_arn(rng.below(MANAGED)))
        .collect();
    arns.dedup();
    arns
}

/// A statement of the identity-policy pool, or none.
fn pool_statement(rng: &mut Rng) -> Option<Value> {
    let statement = match rng.below(18) {
        0 => return None,
        // A resource that depends on the request (a variable no principal fact answers).
        17 => json!({"Effect": "Allow", "Action": ["rds:DeleteDBInstance", "kms:Decrypt"],
                     "Resource": [format!("arn:aws:rds:{REGION}:{A}:db:${{aws:RequestTag/team}}-*"),
                                  format!("arn:aws:kms:{REGION}:{A}:key/${{aws:RequestTag/team}}*")]}),
        // What a request knows differs by principal kind (a role has no `aws:username`).
        14 => json!({"Effect": "Allow", "Action": ["rds:DeleteDBInstance", "kms:Decrypt"],
                     "Resource": "*", "Condition": {"Null": {"aws:username": "true"}}}),
        15 => json!({"Effect": "Deny", "Action": "rds:ModifyDBInstance", "Resource": "*",
                     "Condition": {"StringEquals": {"aws:username": "bob"}}}),
        // ... and by action: an encryption context is in a decrypt request, not in a
        // request to change the key's policy.
        16 => json!({"Effect": "Allow", "Action": ["kms:Decrypt", "kms:PutKeyPolicy"],
                     "Resource": "*",
                     "Condition": {"StringEquals": {"kms:EncryptionContext:app": "orders"}}}),
        10 => json!({"Effect": "Allow", "Action": ["rds:DeleteDBInstance", "rds:ModifyDBInstance"],
                     "Resource": db_arn(rng.below(DBS))}),
        11 => json!({"Effect": "Allow", "Action": "rds:DeleteDBSnapshot",
                     "Resource": snapshot_arn(rng.below(SNAPSHOTS))}),
        12 => json!({"Effect": "Deny", "Action": "rds:ModifyDBInstance",
                     "Resource": format!("arn:aws:rds:{REGION}:{A}:db:dev-*")}),
        13 => json!({"Effect": "Allow", "Action": "rds:Delete*",
                     "Resource": format!("arn:aws:rds:{REGION}:{A}:snapshot:*")}),
        1 => json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}),
        2 => json!({"Effect": "Allow", "Action": "kms:*", "Resource": "*"}),
        3 => json!({"Effect": "Deny", "Action": "kms:Decrypt", "Resource": key_arn(1)}),
        4 => json!({"Effect": "Allow", "Action": ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"],
                    "Resource": format!("arn:aws:kms:{REGION}:{A}:key/k*")}),
        5 => json!({"Effect": "Allow", "Action": "rds:DeleteDBInstance", "Resource": "*"}),
        6 => json!({"Effect": "Allow", "Action": "rds:*", "Resource": "*",
                    "Condition": {"StringEquals": {"aws:ResourceTag/env": "prod"}}}),
        7 => json!({"Effect": "Deny", "Action": "rds:DeleteDBInstance",
                    "Resource": format!("arn:aws:rds:{REGION}:{A}:db:prod-*")}),
        8 => json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
                    "Condition": {"StringEquals": {"kms:ViaService": format!("rds.{REGION}.amazonaws.com")}}}),
        _ => json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
    };
    Some(statement)
}

fn inline(rng: &mut Rng) -> Vec<InlinePolicy> {
    (0..rng.below(3))
        .filter_map(|i| {
            identity_policy(rng).map(|document| InlinePolicy {
                name: format!("p{i}"),
                document,
            })
        })
        .collect()
}

/// Some of the account's principals (and now and then one the snapshot does not know, or the
/// account itself), as a `Principal` list.
fn named(rng: &mut Rng) -> Value {
    let mut names: Vec<String> = Vec::new();
    for _ in 0..1 + rng.below(3) {
        names.push(match rng.below(10) {
            0 => role_arn("gone"),
            1 => A.to_string(),
            2..=3 => user_arn(rng.pick::<&str>(USERS)),
            _ => role_arn(rng.pick::<&str>(ROLES)),
        });
    }
    if names.len() == 1 && rng.chance(50) {
        json!(names[0])
    } else {
        json!(names)
    }
}

fn key_policy(rng: &mut Rng, i: usize) -> String {
    let own = key_arn(i);
    let mut statements = Vec::new();
    if rng.chance(80) {
        statements.push(json!({"Sid": "EnableIAM", "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{A}:root")}, "Action": "kms:*", "Resource": "*"}));
    }
    if rng.chance(35) {
        let mut open = json!({"Sid": "Open", "Effect": "Allow", "Principal": "*",
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": if rng.chance(50) { own.clone() } else { "*".to_string() }});
        match rng.below(4) {
            0 => open["Condition"] = json!({"StringEquals": {"aws:ResourceTag/env": "prod"}}),
            1 => open["Condition"] = json!({"StringEquals": {"kms:CallerAccount": A}}),
            _ => {}
        }
        statements.push(open);
    }
    if rng.chance(50) {
        statements.push(
            json!({"Sid": "Users", "Effect": "Allow", "Principal": {"AWS": named(rng)},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"}),
        );
    }
    if rng.chance(50) {
        statements.push(
            json!({"Sid": "Admins", "Effect": "Allow", "Principal": {"AWS": named(rng)},
            "Action": ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"], "Resource": "*"}),
        );
    }
    if rng.chance(20) {
        statements.push(
            json!({"Sid": "NoOps", "Effect": "Deny", "Principal": {"AWS": named(rng)},
            "Action": "kms:*", "Resource": "*"}),
        );
    }
    if rng.chance(10) {
        statements.push(
            json!({"Sid": "OnlyThem", "Effect": "Deny", "NotPrincipal": {"AWS": named(rng)},
            "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}),
        );
    }
    if rng.chance(10) {
        statements.push(json!({"Sid": "Mixed", "Effect": "Allow",
            "Principal": {"AWS": named(rng), "Service": "rds.amazonaws.com"},
            "Action": "kms:Decrypt", "Resource": "*"}));
    }
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

fn grants(rng: &mut Rng, i: usize) -> Vec<KmsGrant> {
    (0..rng.below(3))
        .map(|g| KmsGrant {
            grant_id: format!("g{i}-{g}"),
            grantee_principal: Some(match rng.below(4) {
                0 => role_arn(rng.pick::<&str>(ROLES)),
                1 => "arn:aws:iam::444455556666:root".to_string(),
                _ => format!("rds.{REGION}.amazonaws.com"),
            }),
            operations: vec!["Decrypt".to_string(), "GenerateDataKey".to_string()],
            ..Default::default()
        })
        .collect()
}

fn tags(rng: &mut Rng) -> rdsguard_model::Tags {
    let env = if rng.chance(50) { "prod" } else { "dev" };
    [("env".to_string(), env.to_string())].into_iter().collect()
}

fn account(seed: u64) -> Snapshot {
    let mut rng = Rng(seed);
    let mut iam = IamData::default();
    for i in 0..MANAGED {
        iam.policies.push(ManagedPolicy {
            arn: managed_arn(i),
            name: Some(format!("m{i}")),
            default_version_id: Some("v1".into()),
            document: Some(managed_policy(&mut rng)),
            ..Default::default()
        });
    }
    for name in GROUPS {
        iam.groups.push(IamGroup {
            name: name.to_string(),
            arn: format!("arn:aws:iam::{A}:group/{name}"),
            inline_policies: if rng.chance(25) {
                inline(&mut rng)
            } else {
                Vec::new()
            },
            attached_policy_arns: attached(&mut rng, 2),
            ..Default::default()
        });
    }
    let boundary = |rng: &mut Rng| rng.chance(15).then(|| managed_arn(rng.below(MANAGED)));
    let role = |name: &str, rng: &mut Rng| IamRole {
        name: name.to_string(),
        arn: role_arn(name),
        inline_policies: if rng.chance(50) {
            inline(rng)
        } else {
            Vec::new()
        },
        attached_policy_arns: attached(rng, 1),
        permissions_boundary_arn: boundary(rng),
        ..Default::default()
    };
    for name in ROLES {
        iam.roles.push(role(name, &mut rng));
    }
    // Now and then an inconsistent snapshot: one role listed twice, with other policies.
    if rng.chance(15) {
        let name = *rng.pick(ROLES);
        iam.roles.push(role(name, &mut rng));
    }
    for name in USERS {
        let groups = GROUPS
            .iter()
            .filter(|_| rng.chance(60))
            .map(|g| g.to_string())
            .collect();
        iam.users.push(IamUser {
            name: name.to_string(),
            arn: user_arn(name),
            groups,
            inline_policies: if rng.chance(50) {
                inline(&mut rng)
            } else {
                Vec::new()
            },
            attached_policy_arns: attached(&mut rng, 1),
            permissions_boundary_arn: boundary(&mut rng),
            ..Default::default()
        });
    }
    let mut region = RegionSnapshot::new(REGION);
    for i in 0..KEYS {
        let grants = grants(&mut rng, i);
        region.kms.keys.push(KmsKey {
            key_id: format!("k{i}"),
            arn: key_arn(i),
            key_manager: Some("CUSTOMER".into()),
            policy: Some(key_policy(&mut rng, i)),
            grants_count: Some(grants.len() as u32),
            grants: Some(grants),
            tags: tags(&mut rng),
            ..Default::default()
        });
    }
    for i in 0..SNAPSHOTS {
        region.rds.db_snapshots.push(DbSnapshot {
            identifier: snapshot_arn(i)
                .rsplit(':')
                .next()
                .unwrap_or_default()
                .into(),
            arn: snapshot_arn(i),
            tags: tags(&mut rng),
            ..Default::default()
        });
    }
    for i in 0..DBS {
        region.rds.db_instances.push(DbInstance {
            db_instance_identifier: db_arn(i).rsplit(':').next().unwrap_or_default().into(),
            db_instance_arn: db_arn(i),
            engine: "postgres".into(),
            tags: tags(&mut rng),
            ..Default::default()
        });
    }
    let mut s = Snapshot::new(
        SnapshotSource {
            kind: "test".into(),
            endpoint_url: None,
            regions: vec![REGION.into()],
        },
        "2026-06-01T00:00:00Z",
    );
    s.accounts.push(AccountSnapshot {
        account_id: A.into(),
        partition: "aws".into(),
        iam: Some(iam),
        regions: vec![region],
        ..Default::default()
    });
    s
}

/// Every resource of the account, with its place in the snapshot.
fn resources() -> Vec<(String, Place)> {
    let at = |kind, item: usize| Place {
        region: 0,
        kind,
        item: item as u32,
    };
    (0..KEYS)
        .map(|i| (key_arn(i), at(PlaceKind::Key, i)))
        .chain((0..DBS).map(|i| (db_arn(i), at(PlaceKind::Instance, i))))
        .chain((0..SNAPSHOTS).map(|i| (snapshot_arn(i), at(PlaceKind::Snapshot, i))))
        // A database the snapshot does not have: its tags are unknown, not absent.
        .chain([(
            format!("arn:aws:rds:{REGION}:{A}:db:gone"),
            at(PlaceKind::Instance, DBS),
        )])
        .collect()
}

/// The bulk answer is `who_can`'s: the same answer, or both refused.
fn agrees(
    got: Result<Rc<ResourceAnswer>, RequestError>,
    expected: Result<WhoCanAnswer, RequestError>,
    what: &str,
) -> Result<(), TestCaseError> {
    match (got, expected) {
        (Ok(got), Ok(expected)) => {
            prop_assert_eq!(
                got.to_action_answer(),
                expected.actions[0].clone(),
                "{}",
                what
            )
        }
        (Err(_), Err(_)) => {}
        (got, expected) => prop_assert!(
            false,
            "{what}: bulk {:?}, who_can {:?}",
            got.map(|_| "an answer"),
            expected.map(|_| "an answer")
        ),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Asked by ARN, by place (as the checks ask), and now and then with another resource's
    /// place (the answer must be the ARN's).
    #[test]
    fn bulk_who_can_gives_each_resource_who_cans_answer(seed in any::<u64>()) {
        let s = account(seed);
        let account = &s.accounts[0];
        let model = AccountModel::build_in(&s, account)
            .ok_or_else(|| TestCaseError::fail("the account has no IAM data"))?;
        let mut resources = resources();
        let mut rng = Rng(seed ^ 0x5EED);
        for order in 0..2 {
            if order == 1 {
                resources.reverse();
            }
            // One engine for every action and resource, as a check's region uses it.
            let bulk = BulkWhoCan::new(&model, account);
            for action in ACTIONS {
                for (r, place) in &resources {
                    let place = match rng.below(10) {
                        0 => None,
                        1 => Some(rng.pick(&resources).1),
                        _ => Some(*place),
                    };
                    agrees(
                        bulk.answer_at(action, r, place),
                        who_can(&s, A, action, r),
                        &format!("seed {seed}: {action} on {r} at {place:?}"),
                    )?;
                }
            }
        }
    }

    /// Asked list by list in turn, as the checks ask (`ListAsker`: plain resources served
    /// the plain answer of their prefix), every resource gets `who_can`'s answer; the
    /// databases' list repeats one ARN at its end (an inconsistent snapshot).
    #[test]
    fn list_askers_give_each_resource_who_cans_answer(seed in any::<u64>()) {
        let mut s = account(seed);
        let region = &mut s.accounts[0].regions[0];
        let first = region.rds.db_instances[0].clone();
        region.rds.db_instances.push(first);
        let account = &s.accounts[0];
        let model = AccountModel::build_in(&s, account)
            .ok_or_else(|| TestCaseError::fail("the account has no IAM data"))?;
        let region = &account.regions[0];
        let lists: [(PlaceKind, Vec<&str>); 3] = [
            (
                PlaceKind::Instance,
                region.rds.db_instances.iter().map(|d| d.db_instance_arn.as_str()).collect(),
            ),
            (
                PlaceKind::Snapshot,
                region.rds.db_snapshots.iter().map(|d| d.arn.as_str()).collect(),
            ),
            (PlaceKind::Key, region.kms.keys.iter().map(|k| k.arn.as_str()).collect()),
        ];
        // One engine for every list, as a check's region uses it.
        let bulk = BulkWhoCan::new(&model, account);
        for action in ACTIONS {
            for (kind, arns) in &lists {
                let mut asker = bulk.list_asker(action, 0, *kind);
                // Twice: the second pass meets prefixes learnt in the first.
                for (i, r) in arns.iter().enumerate().chain(arns.iter().enumerate()) {
                    agrees(
                        asker.answer_at(r, i as u32),
                        who_can(&s, A, action, r),
                        &format!("seed {seed}: {action} on {r} ({kind:?} {i})"),
                    )?;
                }
            }
        }
    }
}
