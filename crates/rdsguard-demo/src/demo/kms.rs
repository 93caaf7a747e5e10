//! The demo's KMS keys: the AWS managed `aws/rds` key in every region and the customer managed
//! keys of each database, with realistic key policies (the default root statement, a key
//! administrator role, a key user role), one key policy open to `*`, one key without rotation,
//! one disabled key and one scheduled for deletion. Keys carry the grants RDS creates for the
//! databases they encrypt, and the orders key a grant to a vendor's role left behind after a
//! migration.

use rdsguard_model::{KmsAlias, KmsData, KmsGrant, KmsKey};
use serde_json::{Value, json};

use super::{ACCOUNT, AP, AWS_RDS_KEY, EU, US, key_arn, key_id};
use crate::build::{arn, tags};

pub(crate) fn kms(region: &str) -> KmsData {
    let mut keys = vec![aws_rds_key(region)];
    match region {
        US => {
            keys.push(customer_key(
                region,
                "orders-db",
                "orders-prod storage",
                |k| {
                    k.grants_count = Some(4);
                },
            ));
            keys.push(customer_key(
                region,
                "payments-aurora",
                "payments Aurora cluster",
                |k| k.grants_count = Some(3),
            ));
            keys.push(customer_key(
                region,
                "erp-oracle",
                "ERP Oracle storage and TDE",
                |k| {
                    k.rotation_enabled = Some(false);
                    k.rotation_period_in_days = None;
                    k.grants_count = Some(2);
                },
            ));
            keys.push(customer_key(
                region,
                "legacy-archive",
                "archived ERP snapshots",
                |k| {
                    k.key_state = Some("Disabled".into());
                    k.rotation_enabled = Some(false);
                    k.rotation_period_in_days = None;
                    k.grants_count = Some(0);
                },
            ));
            // Created in a hurry to share a snapshot with a vendor: anyone may use it.
            keys.push(customer_key(
                region,
                "snapshot-sharing",
                "re-encrypt snapshots for sharing",
                |k| {
                    k.policy = Some(public_key_policy(region));
                    k.rotation_enabled = Some(false);
                    k.rotation_period_in_days = None;
                    k.grants_count = Some(1);
                },
            ));
        }
        EU => {
            keys.push(customer_key(
                region,
                "customers-eu",
                "EU customer data",
                |k| {
                    k.grants_count = Some(2);
                },
            ));
            keys.push(customer_key(region, "eu-sessions", "session store", |k| {
                k.key_state = Some("PendingDeletion".into());
                k.deletion_date = Some("2026-11-08T00:00:00Z".into());
                k.grants_count = Some(2);
            }));
            keys.push(customer_key(region, "eu-ledger", "ledger Db2", |k| {
                k.grants_count = Some(2);
            }));
        }
        _ => {}
    }
    let aliases = keys
        .iter()
        .flat_map(|k| {
            k.aliases.iter().map(|alias| KmsAlias {
                alias_name: alias.clone(),
                alias_arn: Some(arn("kms", region, ACCOUNT, alias)),
                target_key_id: Some(k.key_id.clone()),
            })
        })
        .collect();
    KmsData { keys, aliases }
}

fn aws_rds_key(region: &str) -> KmsKey {
    KmsKey {
        key_id: key_id(region, AWS_RDS_KEY),
        arn: key_arn(region, AWS_RDS_KEY),
        key_manager: Some("AWS".into()),
        key_state: Some("Enabled".into()),
        key_spec: Some("SYMMETRIC_DEFAULT".into()),
        key_usage: Some("ENCRYPT_DECRYPT".into()),
        origin: Some("AWS_KMS".into()),
        multi_region: Some(false),
        creation_date: Some("2019-04-02T15:31:08Z".into()),
        deletion_date: None,
        description: Some(
            "Default key that protects my RDS database volumes when no other key is defined".into(),
        ),
        rotation_enabled: Some(true),
        rotation_period_in_days: Some(365),
        policy: Some(pretty(&aws_managed_policy(region))),
        grants_count: Some(if region == AP { 2 } else { 9 }),
        grants: Some(rds_grants(
            region,
            "aws-rds",
            if region == AP { 2 } else { 9 },
        )),
        aliases: vec!["alias/aws/rds".into()],
        tags: Default::default(),
    }
}

/// A customer managed key named `alias/<name>` with the usual three-statement policy and
/// yearly rotation; `adjust` makes it different.
fn customer_key(
    region: &str,
    name: &str,
    purpose: &str,
    adjust: impl FnOnce(&mut KmsKey),
) -> KmsKey {
    let mut key = KmsKey {
        key_id: key_id(region, name),
        arn: key_arn(region, name),
        key_manager: Some("CUSTOMER".into()),
        key_state: Some("Enabled".into()),
        key_spec: Some("SYMMETRIC_DEFAULT".into()),
        key_usage: Some("ENCRYPT_DECRYPT".into()),
        origin: Some("AWS_KMS".into()),
        multi_region: Some(false),
        creation_date: Some("2023-03-14T10:12:00Z".into()),
        deletion_date: None,
        description: Some(format!("Acme {purpose}")),
        rotation_enabled: Some(true),
        rotation_period_in_days: Some(365),
        policy: Some(pretty(&customer_policy(name))),
        grants_count: Some(1),
        grants: None,
        aliases: vec![format!("alias/{name}")],
        tags: tags(&[("ManagedBy", "terraform"), ("Purpose", purpose)]),
    };
    adjust(&mut key);
    let count = key.grants_count.unwrap_or(0) as usize;
    let mut grants = rds_grants(region, name, count);
    if name == "orders-db"
        && let Some(last) = grants.last_mut()
    {
        // Left behind by a vendor's data migration: their role may still decrypt.
        *last = KmsGrant {
            grant_id: grant_id(name, 99),
            name: Some("vendor-migration-2024".into()),
            grantee_principal: Some("arn:aws:iam::210987654321:role/MigrationRunner".into()),
            retiring_principal: None,
            issuing_account: Some(format!("arn:aws:iam::{ACCOUNT}:root")),
            operations: vec!["Decrypt".into(), "DescribeKey".into()],
            encryption_context_subset: None,
            encryption_context_equals: None,
            creation_date: Some("2024-02-19T16:40:00Z".into()),
        };
    }
    key.grants = Some(grants);
    key
}

/// The grants RDS creates on a key for the storage it encrypts: the regional RDS service may
/// use the key for that database's encryption context only.
fn rds_grants(region: &str, key_name: &str, count: usize) -> Vec<KmsGrant> {
    let service = format!("rds.{region}.amazonaws.com");
    (0..count)
        .map(|i| KmsGrant {
            grant_id: grant_id(key_name, i),
            name: None,
            grantee_principal: Some(service.clone()),
            retiring_principal: Some(service.clone()),
            issuing_account: Some(format!("arn:aws:iam::{ACCOUNT}:root")),
            operations: [
                "Decrypt",
                "Encrypt",
                "GenerateDataKey",
                "GenerateDataKeyWithoutPlaintext",
                "ReEncryptFrom",
                "ReEncryptTo",
                "CreateGrant",
                "RetireGrant",
                "DescribeKey",
            ]
            .iter()
            .map(|o| o.to_string())
            .collect(),
            encryption_context_subset: Some(
                [(
                    "aws:rds:db-id".to_string(),
                    format!("db-{}", grant_id(key_name, i)[..26].to_ascii_uppercase()),
                )]
                .into_iter()
                .collect(),
            ),
            encryption_context_equals: None,
            creation_date: Some("2023-03-14T10:20:00Z".into()),
        })
        .collect()
}

/// A stable, grant-id-shaped (64 hex digits) identifier.
fn grant_id(key_name: &str, i: usize) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key_name.bytes().chain(i.to_le_bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}").repeat(4)
}

fn pretty(doc: &Value) -> String {
    // Serialising a `Value` cannot fail (all keys are strings).
    serde_json::to_string_pretty(doc).unwrap_or_default()
}

fn root() -> String {
    format!("arn:aws:iam::{ACCOUNT}:root")
}

fn customer_policy(name: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Id": format!("key-policy-{name}"),
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": root()},
                "Action": "kms:*",
                "Resource": "*"
            },
            {
                "Sid": "Allow access for Key Administrators",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/kms-key-admin")},
                "Action": [
                    "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*",
                    "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*",
                    "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
                    "kms:CancelKeyDeletion"
                ],
                "Resource": "*"
            },
            {
                "Sid": "Allow use of the key",
                "Effect": "Allow",
                "Principal": {"AWS": [
                    format!("arn:aws:iam::{ACCOUNT}:role/orders-app"),
                    format!("arn:aws:iam::{ACCOUNT}:role/dba-operator")
                ]},
                "Action": [
                    "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*",
                    "kms:GenerateDataKey*", "kms:DescribeKey"
                ],
                "Resource": "*"
            },
            {
                "Sid": "Allow attachment of persistent resources",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/dba-operator")},
                "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                "Resource": "*",
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}
            }
        ]
    })
}

/// Anyone, in any account, may use the key: no condition narrows the `*` principal.
fn public_key_policy(region: &str) -> String {
    let mut doc = customer_policy("snapshot-sharing");
    if let Some(statements) = doc.get_mut("Statement").and_then(Value::as_array_mut) {
        statements.push(json!({
            "Sid": "Allow vendor to copy shared snapshots",
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant"],
            "Resource": key_arn(region, "snapshot-sharing")
        }));
    }
    pretty(&doc)
}

/// The policy AWS attaches to `aws/rds`: usable only through RDS by principals of the account.
fn aws_managed_policy(region: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Id": "auto-rds-2",
        "Statement": [
            {
                "Sid": "Allow access through RDS for all principals in the account that are authorized to use RDS",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [
                    "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                    "kms:CreateGrant", "kms:ListGrants", "kms:DescribeKey"
                ],
                "Resource": "*",
                "Condition": {"StringEquals": {
                    "kms:CallerAccount": ACCOUNT,
                    "kms:ViaService": format!("rds.{region}.amazonaws.com")
                }}
            },
            {
                "Sid": "Allow direct access to key metadata to the account",
                "Effect": "Allow",
                "Principal": {"AWS": root()},
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
                "Resource": "*"
            }
        ]
    })
}
