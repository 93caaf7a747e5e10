//! Hand-written cases for every evaluation rule (IAM User Guide, *Policy evaluation logic*),
//! run through the batch simulator's request format.

use rdsguard_iam::Decision;
use rdsguard_iam::simulate::simulate_value;
use serde_json::{Value, json};

const ACCT: &str = "111122223333";
const OTHER: &str = "444455556666";
const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const ROLE: &str = "arn:aws:iam::111122223333:role/Ops";
const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/Ops/s1";
const DB: &str = "arn:aws:rds:us-east-1:111122223333:db:prod";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn allow(action: &str, resource: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]})
}

fn deny(action: &str, resource: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": action, "Resource": resource}]})
}

fn key_policy(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn root_delegation(account: &str) -> Value {
    json!({"Sid": "EnableIAM", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{account}:root")}, "Action": "kms:*", "Resource": "*"})
}

fn run(mut body: Value, principal: &str, action: &str, resource: &str, context: Value) -> Decision {
    body["request"] =
        json!({"principal": principal, "action": action, "resource": resource, "context": context});
    match simulate_value(&body) {
        Ok(d) => d,
        Err(e) => panic!("request refused: {e}\n{body}"),
    }
}

fn rds(body: Value) -> Decision {
    run(body, ALICE, "rds:DeleteDBInstance", DB, json!({}))
}

use Decision::{Allowed as A, ExplicitlyDenied as X, ImplicitlyDenied as I};

#[test]
fn implicit_deny_by_default() {
    assert_eq!(rds(json!({})), I);
}

#[test]
fn identity_allow_and_explicit_deny_wins() {
    assert_eq!(rds(json!({"identityPolicies": [allow("rds:*", "*")]})), A);
    assert_eq!(
        rds(json!({"identityPolicies": [allow("rds:*", "*"), deny("rds:Delete*", DB)]})),
        X
    );
    // Deny on another resource does not apply.
    assert_eq!(
        rds(
            json!({"identityPolicies": [allow("rds:*", "*"), deny("rds:*", "arn:aws:rds:us-east-1:111122223333:db:other")]})
        ),
        A
    );
}

#[test]
fn actions_case_insensitive_resources_case_sensitive() {
    assert_eq!(
        rds(json!({"identityPolicies": [allow("RDS:deletedbINSTANCE", DB)]})),
        A
    );
    assert_eq!(
        rds(
            json!({"identityPolicies": [allow("rds:DeleteDBInstance", "arn:aws:rds:us-east-1:111122223333:db:PROD")]})
        ),
        I
    );
    assert_eq!(
        rds(
            json!({"identityPolicies": [allow("rds:Delete?BInstance", "arn:aws:rds:*:111122223333:db:p*")]})
        ),
        A
    );
}

#[test]
fn not_action_and_not_resource() {
    let na = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]});
    assert_eq!(rds(json!({"identityPolicies": [na]})), A);
    let na_rds = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "rds:*", "Resource": "*"}]});
    assert_eq!(rds(json!({"identityPolicies": [na_rds]})), I);
    let nr = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "rds:*", "NotResource": "arn:aws:rds:*:*:db:dev-*"}]});
    assert_eq!(
        rds(json!({"identityPolicies": [allow("rds:*", "*"), nr]})),
        X
    );
}

#[test]
fn scps_every_level_must_allow() {
    let full = allow("*", "*");
    assert_eq!(
        rds(json!({"identityPolicies": [allow("rds:*", "*")], "scps": [full.clone()]})),
        A
    );
    assert_eq!(
        rds(json!({"identityPolicies": [allow("rds:*", "*")], "scps": [allow("ec2:*", "*")]})),
        I
    );
    assert_eq!(
        rds(
            json!({"identityPolicies": [allow("rds:*", "*")], "scpLevels": [[full.clone()], [full.clone(), deny("rds:DeleteDBInstance", "*")]]})
        ),
        X
    );
    assert_eq!(
        rds(
            json!({"identityPolicies": [allow("rds:*", "*")], "scpLevels": [[full.clone()], [allow("ec2:*", "*")]]})
        ),
        I
    );
    assert_eq!(
        rds(
            json!({"identityPolicies": [allow("rds:*", "*")], "scpLevels": [[full.clone()], [full]]})
        ),
        A
    );
    // An SCP alone grants nothing.
    assert_eq!(rds(json!({"scps": [allow("*", "*")]})), I);
}

#[test]
fn rcps_only_restrict_and_only_supported_services() {
    let rcp = |action: &str| json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": action, "Resource": "*"}]});
    let kp = key_policy(json!([root_delegation(ACCT)]));
    let kd = |body: Value| run(body, ALICE, "kms:Decrypt", KEY, json!({}));
    assert_eq!(
        kd(json!({"identityPolicies": [allow("kms:*", "*")], "resourcePolicy": kp.clone()})),
        A
    );
    assert_eq!(
        kd(
            json!({"identityPolicies": [allow("kms:*", "*")], "resourcePolicy": kp.clone(), "rcps": [rcp("kms:Decrypt")]})
        ),
        X
    );
    assert_eq!(
        kd(
            json!({"identityPolicies": [allow("kms:*", "*")], "resourcePolicy": kp, "rcps": [rcp("kms:Encrypt")]})
        ),
        A
    );
    // RCPs do not apply to Amazon RDS (not an RCP-supported service).
    assert_eq!(
        rds(
            json!({"identityPolicies": [allow("rds:*", "*")], "rcps": [rcp("rds:DeleteDBInstance")]})
        ),
        A
    );
    // RCP syntax: Deny only, Principal "*", no Action "*".
    let mut bad = json!({"rcps": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}]}]});
    bad["request"] = json!({"principal": ALICE, "action": "kms:Decrypt", "resource": KEY});
    assert!(simulate_value(&bad).is_err());
    let mut bad = json!({"rcps": [rcp("*")]});
    bad["request"] = json!({"principal": ALICE, "action": "kms:Decrypt", "resource": KEY});
    assert!(simulate_value(&bad).is_err());
}

#[test]
fn permission_boundaries_intersect() {
    assert_eq!(
        rds(
            json!({"identityPolicies": [allow("rds:*", "*")], "permissionBoundaries": [allow("rds:Delete*", "*")]})
        ),
        A
    );
    assert_eq!(
        rds(
            json!({"identityPolicies": [allow("rds:*", "*")], "permissionBoundaries": [allow("ec2:*", "*")]})
        ),
        I
    );
    assert_eq!(
        rds(
            json!({"identityPolicies": [allow("rds:*", "*")], "permissionBoundaries": [allow("*", "*"), deny("rds:*", "*")]})
        ),
        X
    );
    // A boundary grants nothing by itself.
    assert_eq!(rds(json!({"permissionBoundaries": [allow("*", "*")]})), I);
}

#[test]
fn session_policies_intersect() {
    let body =
        json!({"identityPolicies": [allow("rds:*", "*")], "sessionPolicy": allow("ec2:*", "*")});
    assert_eq!(run(body, SESSION, "rds:DeleteDBInstance", DB, json!({})), I);
    let body =
        json!({"identityPolicies": [allow("rds:*", "*")], "sessionPolicy": allow("rds:*", DB)});
    assert_eq!(run(body, SESSION, "rds:DeleteDBInstance", DB, json!({})), A);
    // A session policy is refused for an IAM user.
    let mut body = json!({"sessionPolicy": allow("*", "*")});
    body["request"] = json!({"principal": ALICE, "action": "rds:DeleteDBInstance", "resource": DB});
    assert!(simulate_value(&body).is_err());
}

#[test]
fn kms_key_policy_must_allow_even_in_the_same_account() {
    let kd = |body: Value| run(body, ALICE, "kms:Decrypt", KEY, json!({}));
    // Identity policy alone: not enough for KMS.
    assert_eq!(kd(json!({"identityPolicies": [allow("kms:*", "*")]})), I);
    // Root delegation + identity: allowed.
    assert_eq!(
        kd(
            json!({"identityPolicies": [allow("kms:*", "*")], "resourcePolicy": key_policy(json!([root_delegation(ACCT)]))})
        ),
        A
    );
    // Root delegation without identity permission: implicit deny.
    assert_eq!(
        kd(json!({"resourcePolicy": key_policy(json!([root_delegation(ACCT)]))})),
        I
    );
    // Key policy naming the user directly: allowed with no identity policy.
    let direct = json!([{"Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "kms:Decrypt", "Resource": "*"}]);
    assert_eq!(kd(json!({"resourcePolicy": key_policy(direct)})), A);
    // Key policy deny wins.
    let with_deny = json!([root_delegation(ACCT), {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}]);
    assert_eq!(
        kd(
            json!({"identityPolicies": [allow("kms:*", "*")], "resourcePolicy": key_policy(with_deny)})
        ),
        X
    );
    // Wildcard-only KMS actions (ListKeys) follow IAM alone.
    assert_eq!(
        run(
            json!({"identityPolicies": [allow("kms:List*", "*")]}),
            ALICE,
            "kms:ListKeys",
            "*",
            json!({})
        ),
        A
    );
}

#[test]
fn cross_account_needs_both_sides() {
    let bob = "arn:aws:iam::444455556666:user/bob";
    let kd = |body: Value| run(body, bob, "kms:Decrypt", KEY, json!({}));
    let kp_other = key_policy(json!([root_delegation(ACCT), root_delegation(OTHER)]));
    assert_eq!(
        kd(
            json!({"identityPolicies": [allow("kms:Decrypt", KEY)], "resourcePolicy": kp_other.clone()})
        ),
        A
    );
    assert_eq!(kd(json!({"resourcePolicy": kp_other})), I);
    assert_eq!(
        kd(
            json!({"identityPolicies": [allow("kms:Decrypt", KEY)], "resourcePolicy": key_policy(json!([root_delegation(ACCT)]))})
        ),
        I
    );
    // RDS has no resource policies: cross-account identity permission is never enough.
    assert_eq!(
        run(
            json!({"identityPolicies": [allow("rds:*", "*")]}),
            bob,
            "rds:DeleteDBInstance",
            DB,
            json!({})
        ),
        I
    );
}

#[test]
fn resource_policy_and_boundaries() {
    // Naming the user: not limited by an implicit deny in the boundary (same account).
    let named = key_policy(
        json!([{"Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "kms:Decrypt", "Resource": "*"}]),
    );
    assert_eq!(
        run(
            json!({"permissionBoundaries": [allow("ec2:*", "*")], "resourcePolicy": named}),
            ALICE,
            "kms:Decrypt",
            KEY,
            json!({})
        ),
        A
    );
    // Naming the role for a role session: limited by the boundary.
    let role_named = key_policy(
        json!([{"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:Decrypt", "Resource": "*"}]),
    );
    assert_eq!(
        run(
            json!({"permissionBoundaries": [allow("ec2:*", "*")], "resourcePolicy": role_named.clone()}),
            SESSION,
            "kms:Decrypt",
            KEY,
            json!({})
        ),
        I
    );
    assert_eq!(
        run(
            json!({"resourcePolicy": role_named}),
            SESSION,
            "kms:Decrypt",
            KEY,
            json!({})
        ),
        A
    );
    // Deny with NotPrincipal always applies to a principal with a boundary.
    let np = key_policy(json!([
        {"Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "kms:Decrypt", "Resource": "*"},
        {"Effect": "Deny", "NotPrincipal": {"AWS": ALICE}, "Action": "kms:Decrypt", "Resource": "*"}
    ]));
    assert_eq!(
        run(
            json!({"resourcePolicy": np.clone()}),
            ALICE,
            "kms:Decrypt",
            KEY,
            json!({})
        ),
        A
    );
    assert_eq!(
        run(
            json!({"resourcePolicy": np, "permissionBoundaries": [allow("*", "*")]}),
            ALICE,
            "kms:Decrypt",
            KEY,
            json!({})
        ),
        X
    );
}

#[test]
fn session_arn_named_in_resource_policy_bypasses_session_policy() {
    let named = key_policy(
        json!([{"Effect": "Allow", "Principal": {"AWS": SESSION}, "Action": "kms:Decrypt", "Resource": "*"}]),
    );
    assert_eq!(
        run(
            json!({"sessionPolicy": allow("ec2:*", "*"), "resourcePolicy": named}),
            SESSION,
            "kms:Decrypt",
            KEY,
            json!({})
        ),
        A
    );
}

#[test]
fn service_principals_need_the_resource_policy() {
    let kp = key_policy(
        json!([{"Effect": "Allow", "Principal": {"Service": "rds.amazonaws.com"}, "Action": "kms:Decrypt", "Resource": "*"}]),
    );
    assert_eq!(
        run(
            json!({"resourcePolicy": kp}),
            "rds.amazonaws.com",
            "kms:Decrypt",
            KEY,
            json!({})
        ),
        A
    );
    assert_eq!(
        run(
            json!({}),
            "rds.amazonaws.com",
            "kms:Decrypt",
            KEY,
            json!({})
        ),
        I
    );
}

#[test]
fn wildcard_only_actions_need_star() {
    let d = |p: Value| {
        run(
            json!({"identityPolicies": [p]}),
            ALICE,
            "ec2:DescribeInstances",
            "*",
            json!({}),
        )
    };
    assert_eq!(d(allow("ec2:Describe*", "*")), A);
    assert_eq!(d(allow("ec2:Describe*", "arn:aws:ec2:*:*:instance/*")), I);
    let mut body = json!({"identityPolicies": [allow("ec2:*", "*")]});
    body["request"] = json!({"principal": ALICE, "action": "ec2:DescribeInstances", "resource": "arn:aws:ec2:us-east-1:111122223333:instance/i-1"});
    assert!(simulate_value(&body).is_err());
}

#[test]
fn policy_variables_and_conditions() {
    let p = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "rds:*", "Resource": "arn:aws:rds:*:*:db:${aws:username}-*"}]});
    let own = "arn:aws:rds:us-east-1:111122223333:db:alice-1";
    assert_eq!(
        run(
            json!({"identityPolicies": [p.clone()]}),
            ALICE,
            "rds:DeleteDBInstance",
            own,
            json!({"aws:username": "alice"})
        ),
        A
    );
    assert_eq!(
        run(
            json!({"identityPolicies": [p.clone()]}),
            ALICE,
            "rds:DeleteDBInstance",
            own,
            json!({"aws:username": "bob"})
        ),
        I
    );
    assert_eq!(
        run(
            json!({"identityPolicies": [p]}),
            ALICE,
            "rds:DeleteDBInstance",
            own,
            json!({})
        ),
        I
    );
    // The same policy under 2008-10-17 keeps the variable literal.
    let old = json!({"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Action": "rds:*", "Resource": "arn:aws:rds:*:*:db:${aws:username}-*"}]});
    assert_eq!(
        run(
            json!({"identityPolicies": [old]}),
            ALICE,
            "rds:DeleteDBInstance",
            own,
            json!({"aws:username": "alice"})
        ),
        I
    );
    // Deny unless MFA, with the usual BoolIfExists pattern.
    let mfa = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "rds:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "rds:Delete*", "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}
    ]});
    assert_eq!(
        run(
            json!({"identityPolicies": [mfa.clone()]}),
            ALICE,
            "rds:DeleteDBInstance",
            DB,
            json!({})
        ),
        X
    );
    assert_eq!(
        run(
            json!({"identityPolicies": [mfa.clone()]}),
            ALICE,
            "rds:DeleteDBInstance",
            DB,
            json!({"aws:MultiFactorAuthPresent": "false"})
        ),
        X
    );
    assert_eq!(
        run(
            json!({"identityPolicies": [mfa]}),
            ALICE,
            "rds:DeleteDBInstance",
            DB,
            json!({"aws:MultiFactorAuthPresent": true})
        ),
        A
    );
    // Context keys that do not apply to the action are not in the request.
    let via = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "rds:*", "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": "rds.us-east-1.amazonaws.com"}}}]});
    assert_eq!(
        run(
            json!({"identityPolicies": [via]}),
            ALICE,
            "rds:DeleteDBInstance",
            DB,
            json!({"kms:ViaService": "rds.us-east-1.amazonaws.com"})
        ),
        I
    );
    // Resource tags for RDS.
    let tag = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "rds:*", "Resource": "*", "Condition": {"StringEquals": {"rds:db-tag/env": "dev"}}}]});
    assert_eq!(
        run(
            json!({"identityPolicies": [tag.clone()]}),
            ALICE,
            "rds:DeleteDBInstance",
            DB,
            json!({"rds:db-tag/env": "dev"})
        ),
        A
    );
    assert_eq!(
        run(
            json!({"identityPolicies": [tag]}),
            ALICE,
            "rds:DeleteDBInstance",
            DB,
            json!({"rds:db-tag/env": "prod"})
        ),
        I
    );
}

#[test]
fn service_specific_refusals() {
    let alias = "arn:aws:kms:us-east-1:111122223333:alias/aws/rds";
    let body = json!({"identityPolicies": [allow("kms:*", "*")], "resourcePolicy": null});
    assert_eq!(run(body, ALICE, "kms:DeleteAlias", alias, json!({})), I);
    assert_eq!(
        run(json!({}), ALICE, "sts:GetCallerIdentity", "*", json!({})),
        A
    );
}
