//! DB instance checks.

use rdsguard_findings::Severity;
use rdsguard_model::ops;

use super::common::instance_resource;

use crate::engine::{CheckDef, Emitter, RegionCtx, Runner};
use crate::evidence;

pub static CHECKS: &[&CheckDef] = &[&RDS_INSTANCE_STORAGE_ENCRYPTED];

pub static RDS_INSTANCE_STORAGE_ENCRYPTED: CheckDef = CheckDef {
    id: "rds_instance_storage_encrypted",
    title: "RDS DB instance storage is encrypted at rest",
    severity: Severity::High,
    resource_type: "AwsRdsDbInstance",
    description: "Checks StorageEncrypted on every DB instance. Aurora and Multi-AZ cluster \
                  members are judged by their cluster's setting.",
    rationale: "Unencrypted storage, backups, replicas and snapshots expose data to anyone who \
                obtains the underlying volumes or a shared snapshot.",
    remediation: "Encryption cannot be enabled in place: snapshot the instance, copy the \
                  snapshot with a customer managed KMS key, restore from the encrypted copy and \
                  cut over (`rdsguard fix --check rds_instance_storage_encrypted`).",
    cis: &["v1.4.0/2.3.1", "v3.0.0/2.3.1", "v5.0.0/2.2.1"],
    fsbp: &["RDS.3"],
    depends_on: &[
        ops::RDS_DESCRIBE_DB_INSTANCES,
        ops::RDS_DESCRIBE_DB_CLUSTERS,
    ],
    run: Runner::Region(storage_encrypted),
};

fn storage_encrypted(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    for db in &ctx.region.rds.db_instances {
        let res = instance_resource(ctx, db);
        let ev = evidence! {
            "storage_encrypted" => db.storage_encrypted,
            "kms_key_id" => db.kms_key_id,
        };
        if db.storage_encrypted {
            em.pass(
                res,
                format!(
                    "DB instance {} is encrypted at rest",
                    db.db_instance_identifier
                ),
                ev,
            );
        } else {
            em.fail(
                res,
                format!(
                    "DB instance {} is not encrypted at rest",
                    db.db_instance_identifier
                ),
                ev,
            );
        }
    }
}
