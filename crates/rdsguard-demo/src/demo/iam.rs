//! The demo's IAM: who can create, change, delete and connect to the databases. A mix of sound
//! least-privilege grants and the usual drift: an administrator, a DBA group with `rds:*`, a
//! policy whose name promises one instance but whose resource is `*`, a break-glass role using
//! `NotAction`, and a CI role that can make snapshots public.

use rdsguard_model::{IamData, IamGroup, IamRole, IamUser, InlinePolicy, ManagedPolicy};
use serde_json::{Value, json};

use super::{ACCOUNT, US};
use crate::build::{tags, token};

fn pretty(doc: &Value) -> String {
    // Serialising a `Value` cannot fail (all keys are strings).
    serde_json::to_string_pretty(doc).unwrap_or_default()
}

fn iam_arn(kind: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:{kind}{path}{name}")
}

fn policy_arn(name: &str) -> String {
    iam_arn("policy", "/", name)
}

const ADMINISTRATOR_ACCESS: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const RDS_SERVICE_ROLE_POLICY: &str =
    "arn:aws:iam::aws:policy/aws-service-role/AmazonRDSServiceRolePolicy";

fn allow(actions: Value, resources: Value) -> Value {
    json!({"Effect": "Allow", "Action": actions, "Resource": resources})
}

fn document(statements: Vec<Value>) -> String {
    pretty(&json!({"Version": "2012-10-17", "Statement": statements}))
}

fn managed(
    arn: &str,
    name: &str,
    path: &str,
    version: &str,
    doc: String,
    count: i32,
) -> ManagedPolicy {
    ManagedPolicy {
        arn: arn.to_string(),
        name: Some(name.to_string()),
        path: Some(path.to_string()),
        default_version_id: Some(version.to_string()),
        document: Some(doc),
        attachment_count: Some(count),
    }
}

fn trust(principal: Value) -> Option<String> {
    Some(pretty(&json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": principal,
            "Action": "sts:AssumeRole"
        }]
    })))
}

fn user(name: &str, groups: &[&str], attached: &[&str]) -> IamUser {
    IamUser {
        name: name.to_string(),
        arn: iam_arn("user", "/", name),
        user_id: Some(format!("AIDA{}", token(&format!("user/{name}"), 17))),
        path: Some("/".to_string()),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        attached_policy_arns: attached.iter().map(|a| a.to_string()).collect(),
        ..Default::default()
    }
}

fn role(name: &str, path: &str, trust_policy: Option<String>, attached: &[&str]) -> IamRole {
    IamRole {
        name: name.to_string(),
        arn: iam_arn("role", path, name),
        role_id: Some(format!("AROA{}", token(&format!("role/{name}"), 17))),
        path: Some(path.to_string()),
        assume_role_policy_document: trust_policy,
        attached_policy_arns: attached.iter().map(|a| a.to_string()).collect(),
        ..Default::default()
    }
}

pub(crate) fn iam() -> IamData {
    let orders_db = format!("arn:aws:rds:{US}:{ACCOUNT}:db:orders-prod");
    let orders_resource_id = crate::build::token(&format!("{US}/orders-prod"), 26);
    let policies = vec![
        managed(
            ADMINISTRATOR_ACCESS,
            "AdministratorAccess",
            "/",
            "v1",
            document(vec![allow(json!("*"), json!("*"))]),
            2,
        ),
        managed(
            RDS_SERVICE_ROLE_POLICY,
            "AmazonRDSServiceRolePolicy",
            "/aws-service-role/",
            "v97",
            document(vec![allow(
                json!([
                    "ec2:AuthorizeSecurityGroupIngress",
                    "ec2:CreateNetworkInterface",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeVpcs",
                    "ec2:ModifyNetworkInterfaceAttribute"
                ]),
                json!("*"),
            )]),
            1,
        ),
        managed(
            &policy_arn("dba-rds-full"),
            "dba-rds-full",
            "/",
            "v3",
            document(vec![
                allow(json!("rds:*"), json!("*")),
                allow(
                    json!(["cloudwatch:GetMetricData", "logs:GetLogEvents", "pi:*"]),
                    json!("*"),
                ),
            ]),
            2,
        ),
        // The name promises one instance; the resource is every database in the account.
        managed(
            &policy_arn("orders-db-only"),
            "orders-db-only",
            "/",
            "v2",
            document(vec![
                allow(
                    json!(["rds:Describe*", "rds:ListTagsForResource"]),
                    json!("*"),
                ),
                allow(
                    json!([
                        "rds:ModifyDBInstance",
                        "rds:RebootDBInstance",
                        "rds:Delete*"
                    ]),
                    json!("*"),
                ),
            ]),
            1,
        ),
        // What the write-up recommends: scoped to the one instance's ARN.
        managed(
            &policy_arn("orders-db-operator"),
            "orders-db-operator",
            "/",
            "v1",
            document(vec![allow(
                json!([
                    "rds:ModifyDBInstance",
                    "rds:RebootDBInstance",
                    "rds:CreateDBSnapshot"
                ]),
                json!(orders_db),
            )]),
            1,
        ),
        managed(
            &policy_arn("deploy-boundary"),
            "deploy-boundary",
            "/",
            "v1",
            document(vec![
                allow(
                    json!([
                        "rds:Describe*",
                        "rds:CreateDBInstance",
                        "rds:AddTagsToResource"
                    ]),
                    json!("*"),
                ),
                json!({"Effect": "Deny", "Action": ["rds:Delete*", "kms:ScheduleKeyDeletion"], "Resource": "*"}),
            ]),
            1,
        ),
        managed(
            &policy_arn("deploy-rds-create"),
            "deploy-rds-create",
            "/",
            "v4",
            document(vec![allow(
                json!([
                    "rds:*",
                    "ec2:Describe*",
                    "kms:CreateGrant",
                    "kms:DescribeKey"
                ]),
                json!("*"),
            )]),
            1,
        ),
        managed(
            &policy_arn("ci-snapshot-sharing"),
            "ci-snapshot-sharing",
            "/",
            "v1",
            document(vec![allow(
                json!([
                    "rds:CreateDBSnapshot",
                    "rds:CopyDBSnapshot",
                    "rds:ModifyDBSnapshotAttribute",
                    "rds:DescribeDBSnapshots"
                ]),
                json!("*"),
            )]),
            1,
        ),
        managed(
            &policy_arn("kms-key-administration"),
            "kms-key-administration",
            "/",
            "v1",
            document(vec![allow(
                json!([
                    "kms:Create*",
                    "kms:Describe*",
                    "kms:Enable*",
                    "kms:List*",
                    "kms:Put*",
                    "kms:Update*",
                    "kms:Revoke*",
                    "kms:Disable*",
                    "kms:Get*",
                    "kms:Delete*",
                    "kms:ScheduleKeyDeletion",
                    "kms:CancelKeyDeletion"
                ]),
                json!("*"),
            )]),
            1,
        ),
    ];

    let dbas = IamGroup {
        name: "dbas".to_string(),
        arn: iam_arn("group", "/", "dbas"),
        path: Some("/".to_string()),
        inline_policies: Vec::new(),
        attached_policy_arns: vec![policy_arn("dba-rds-full")],
    };
    let admins = IamGroup {
        name: "admins".to_string(),
        arn: iam_arn("group", "/", "admins"),
        path: Some("/".to_string()),
        inline_policies: Vec::new(),
        attached_policy_arns: vec![ADMINISTRATOR_ACCESS.to_string()],
    };

    let mut alice = user("alice", &["admins"], &[ADMINISTRATOR_ACCESS]);
    alice.tags = tags(&[("Team", "platform")]);
    let mut bob = user("bob", &["dbas"], &[]);
    bob.tags = tags(&[("Team", "data")]);
    let carol = user("carol", &[], &[&policy_arn("orders-db-only")]);
    let mut deploy = user("deploy", &[], &[&policy_arn("deploy-rds-create")]);
    deploy.permissions_boundary_arn = Some(policy_arn("deploy-boundary"));
    deploy.tags = tags(&[("Purpose", "terraform")]);
    let mut dave = user("dave", &[], &[&policy_arn("orders-db-operator")]);
    dave.inline_policies.push(InlinePolicy {
        name: "read-snapshots".to_string(),
        document: document(vec![allow(
            json!(["rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots"]),
            json!("*"),
        )]),
    });

    let ec2_trust = || trust(json!({"Service": "ec2.amazonaws.com"}));
    let mut orders_app = role("orders-app", "/", ec2_trust(), &[]);
    orders_app.inline_policies.push(InlinePolicy {
        name: "connect-orders-db".to_string(),
        document: document(vec![allow(
            json!("rds-db:connect"),
            json!(format!(
                "arn:aws:rds-db:{US}:{ACCOUNT}:dbuser:db-{orders_resource_id}/orders_app"
            )),
        )]),
    });
    orders_app.tags = tags(&[("Application", "orders")]);

    let mut break_glass = role(
        "break-glass",
        "/",
        trust(json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")})),
        &[],
    );
    // Everything except IAM: includes every RDS and KMS action, which the name hides.
    break_glass.inline_policies.push(InlinePolicy {
        name: "everything-but-iam".to_string(),
        document: pretty(&json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]
        })),
    });

    let ci = role(
        "ci-snapshots",
        "/",
        trust(
            json!({"Federated": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com")}),
        ),
        &[&policy_arn("ci-snapshot-sharing")],
    );
    let key_admin = role(
        "kms-key-admin",
        "/",
        trust(json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")})),
        &[&policy_arn("kms-key-administration")],
    );
    let dba_operator = role(
        "dba-operator",
        "/",
        trust(json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")})),
        &[&policy_arn("dba-rds-full")],
    );
    let service_linked = role(
        "AWSServiceRoleForRDS",
        "/aws-service-role/rds.amazonaws.com/",
        trust(json!({"Service": "rds.amazonaws.com"})),
        &[RDS_SERVICE_ROLE_POLICY],
    );

    IamData {
        users: vec![alice, bob, carol, dave, deploy],
        groups: vec![admins, dbas],
        roles: vec![
            orders_app,
            break_glass,
            ci,
            key_admin,
            dba_operator,
            service_linked,
        ],
        policies,
    }
}
