//! Amazon RDS: instances, clusters, snapshots (with who may restore them), parameter groups
//! (security parameters only, each group read once), option groups, subnet groups, proxies,
//! event subscriptions, CA certificates and the versions of the engines in use.
//!
//! Tags come from the `TagList` of the Describe answers; ListTagsForResource is called only for
//! subnet groups and proxies, whose Describe answers carry no tags.
//! Neptune and DocumentDB share the RDS API; their resources are left out (not RDS databases).
//!
//! Per-item gaps name the item: the parameter group name, the snapshot identifier, the engine,
//! the subnet group or proxy ARN (ListTagsForResource).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_rds::types as sdk;
use futures::future::join_all;
use rdsguard_model::{
    CaCertificate, ClusterMember, DbCluster, DbInstance, DbProxy, DbSnapshot, DbSubnetGroup,
    EngineVersion, EventSubscription, GroupMembership, Op, OptionGroup, OptionGroupOption,
    OptionSetting, Parameter, ParameterGroup, ProxyAuth, RdsData, RestoreAttribute,
    SECURITY_PARAMETERS, Tags, VpcSecurityGroupMembership, ops,
};

use crate::call::{Ctx, Gaps, Scope};
use crate::clients::RegionClients;
use crate::util::{port, ts};

/// The largest page RDS accepts.
const PAGE: i32 = 100;

/// Engines that use the RDS API but are other services.
fn is_rds_engine(engine: Option<&str>) -> bool {
    !matches!(engine, Some("docdb" | "neptune"))
}

pub(crate) async fn collect(ctx: &Ctx<'_>, rc: &RegionClients, gaps: &Gaps) -> RdsData {
    let (
        (db_instances, db_clusters, engine_versions),
        db_snapshots,
        db_cluster_snapshots,
        db_parameter_groups,
        db_cluster_parameter_groups,
        option_groups,
        db_subnet_groups,
        db_proxies,
        event_subscriptions,
        certificates,
    ) = futures::join!(
        instances_clusters_versions(ctx, rc, gaps),
        snapshots(ctx, rc, gaps),
        cluster_snapshots(ctx, rc, gaps),
        parameter_groups(ctx, rc, gaps),
        cluster_parameter_groups(ctx, rc, gaps),
        option_groups(ctx, rc, gaps),
        subnet_groups(ctx, rc, gaps),
        proxies(ctx, rc, gaps),
        event_subscriptions(ctx, rc, gaps),
        certificates(ctx, rc, gaps),
    );
    RdsData {
        db_instances,
        db_clusters,
        db_snapshots,
        db_cluster_snapshots,
        db_parameter_groups,
        db_cluster_parameter_groups,
        option_groups,
        db_subnet_groups,
        db_proxies,
        event_subscriptions,
        certificates,
        engine_versions,
    }
}

fn done(ctx: &Ctx<'_>, op: Op, region: &str) {
    ctx.progress.op_done(&op.to_string(), Some(region));
}

fn tags(list: &[sdk::Tag]) -> Tags {
    list.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

fn vpc_sgs(list: &[sdk::VpcSecurityGroupMembership]) -> Vec<VpcSecurityGroupMembership> {
    list.iter()
        .filter_map(|m| {
            Some(VpcSecurityGroupMembership {
                vpc_security_group_id: m.vpc_security_group_id()?.to_string(),
                status: m.status().unwrap_or_default().to_string(),
            })
        })
        .collect()
}

/// Instances and clusters, then the versions of the engines they run (one call per engine).
async fn instances_clusters_versions(
    ctx: &Ctx<'_>,
    rc: &RegionClients,
    gaps: &Gaps,
) -> (Vec<DbInstance>, Vec<DbCluster>, Vec<EngineVersion>) {
    let region = rc.region.as_str();
    let instances = async {
        let op = ops::RDS_DESCRIBE_DB_INSTANCES;
        let pages = ctx
            .pages(
                op,
                Scope::region(region),
                rc.rds
                    .describe_db_instances()
                    .max_records(PAGE)
                    .into_paginator()
                    .send(),
            )
            .await;
        done(ctx, op, region);
        gaps.ok(pages)
            .unwrap_or_default()
            .iter()
            .flat_map(|p| p.db_instances())
            .filter(|d| is_rds_engine(d.engine()))
            .map(instance)
            .collect::<Vec<_>>()
    };
    let clusters = async {
        let op = ops::RDS_DESCRIBE_DB_CLUSTERS;
        let pages = ctx
            .pages(
                op,
                Scope::region(region),
                rc.rds
                    .describe_db_clusters()
                    .max_records(PAGE)
                    .into_paginator()
                    .send(),
            )
            .await;
        done(ctx, op, region);
        gaps.ok(pages)
            .unwrap_or_default()
            .iter()
            .flat_map(|p| p.db_clusters())
            .filter(|c| is_rds_engine(c.engine()))
            .map(cluster)
            .collect::<Vec<_>>()
    };
    let (instances, clusters) = futures::join!(instances, clusters);

    let engines: BTreeSet<&str> = instances
        .iter()
        .map(|i| i.engine.as_str())
        .chain(clusters.iter().map(|c| c.engine.as_str()))
        .filter(|e| !e.is_empty())
        .collect();
    let op = ops::RDS_DESCRIBE_DB_ENGINE_VERSIONS;
    let per_engine = join_all(engines.iter().map(|engine| async move {
        let pages = ctx
            .pages(
                op,
                Scope::item(region, engine),
                rc.rds
                    .describe_db_engine_versions()
                    .engine(*engine)
                    // Deprecated versions are exactly the ones a check wants to see.
                    .include_all(true)
                    .max_records(PAGE)
                    .into_paginator()
                    .send(),
            )
            .await;
        gaps.ok(pages)
            .unwrap_or_default()
            .iter()
            .flat_map(|p| p.db_engine_versions())
            .map(|v| EngineVersion {
                engine: v.engine().unwrap_or(engine).to_string(),
                engine_version: v.engine_version().unwrap_or_default().to_string(),
                status: v.status().map(str::to_string),
            })
            .collect::<Vec<_>>()
    }))
    .await;
    done(ctx, op, region);
    (
        instances,
        clusters,
        per_engine.into_iter().flatten().collect(),
    )
}

fn instance(d: &sdk::DbInstance) -> DbInstance {
    let endpoint = d.endpoint();
    DbInstance {
        db_instance_identifier: d.db_instance_identifier().unwrap_or_default().to_string(),
        db_instance_arn: d.db_instance_arn().unwrap_or_default().to_string(),
        dbi_resource_id: d.dbi_resource_id().map(str::to_string),
        engine: d.engine().unwrap_or_default().to_string(),
        engine_version: d.engine_version().unwrap_or_default().to_string(),
        db_instance_class: d.db_instance_class().unwrap_or_default().to_string(),
        db_instance_status: d.db_instance_status().unwrap_or_default().to_string(),
        db_cluster_identifier: d.db_cluster_identifier().map(str::to_string),
        publicly_accessible: d.publicly_accessible().unwrap_or(false),
        storage_encrypted: d.storage_encrypted().unwrap_or(false),
        kms_key_id: d.kms_key_id().map(str::to_string),
        endpoint_address: endpoint.and_then(|e| e.address()).map(str::to_string),
        port: port(endpoint.and_then(|e| e.port()).or(d.db_instance_port())),
        vpc_id: d
            .db_subnet_group()
            .and_then(|g| g.vpc_id())
            .map(str::to_string),
        db_subnet_group_name: d
            .db_subnet_group()
            .and_then(|g| g.db_subnet_group_name())
            .map(str::to_string),
        vpc_security_groups: vpc_sgs(d.vpc_security_groups()),
        db_security_groups: d
            .db_security_groups()
            .iter()
            .filter_map(|g| g.db_security_group_name().map(str::to_string))
            .collect(),
        db_parameter_groups: d
            .db_parameter_groups()
            .iter()
            .filter_map(|g| {
                Some(GroupMembership {
                    name: g.db_parameter_group_name()?.to_string(),
                    status: g.parameter_apply_status().unwrap_or_default().to_string(),
                })
            })
            .collect(),
        option_group_memberships: d
            .option_group_memberships()
            .iter()
            .filter_map(|g| {
                Some(GroupMembership {
                    name: g.option_group_name()?.to_string(),
                    status: g.status().unwrap_or_default().to_string(),
                })
            })
            .collect(),
        multi_az: d.multi_az().unwrap_or(false),
        availability_zone: d.availability_zone().map(str::to_string),
        backup_retention_period: d.backup_retention_period().unwrap_or(0),
        deletion_protection: d.deletion_protection().unwrap_or(false),
        iam_database_authentication_enabled: d
            .iam_database_authentication_enabled()
            .unwrap_or(false),
        auto_minor_version_upgrade: d.auto_minor_version_upgrade().unwrap_or(false),
        enabled_cloudwatch_logs_exports: d.enabled_cloudwatch_logs_exports().to_vec(),
        monitoring_interval: d.monitoring_interval(),
        enhanced_monitoring_resource_arn: d.enhanced_monitoring_resource_arn().map(str::to_string),
        copy_tags_to_snapshot: d.copy_tags_to_snapshot().unwrap_or(false),
        master_username: d.master_username().map(str::to_string),
        manage_master_user_password: d.master_user_secret().is_some(),
        ca_certificate_identifier: d.ca_certificate_identifier().map(str::to_string),
        certificate_valid_till: d.certificate_details().and_then(|c| ts(c.valid_till())),
        performance_insights_enabled: d.performance_insights_enabled().unwrap_or(false),
        performance_insights_kms_key_id: d.performance_insights_kms_key_id().map(str::to_string),
        engine_lifecycle_support: d.engine_lifecycle_support().map(str::to_string),
        read_replica_source_db_instance_identifier: d
            .read_replica_source_db_instance_identifier()
            .map(str::to_string),
        read_replica_source_db_cluster_identifier: d
            .read_replica_source_db_cluster_identifier()
            .map(str::to_string),
        storage_type: d.storage_type().map(str::to_string),
        instance_create_time: ts(d.instance_create_time()),
        tags: tags(d.tag_list()),
    }
}

fn cluster(c: &sdk::DbCluster) -> DbCluster {
    DbCluster {
        db_cluster_identifier: c.db_cluster_identifier().unwrap_or_default().to_string(),
        db_cluster_arn: c.db_cluster_arn().unwrap_or_default().to_string(),
        engine: c.engine().unwrap_or_default().to_string(),
        engine_version: c.engine_version().unwrap_or_default().to_string(),
        engine_mode: c.engine_mode().map(str::to_string),
        status: c.status().unwrap_or_default().to_string(),
        members: c
            .db_cluster_members()
            .iter()
            .filter_map(|m| {
                Some(ClusterMember {
                    db_instance_identifier: m.db_instance_identifier()?.to_string(),
                    is_cluster_writer: m.is_cluster_writer().unwrap_or(false),
                    db_cluster_parameter_group_status: m
                        .db_cluster_parameter_group_status()
                        .map(str::to_string),
                })
            })
            .collect(),
        multi_az: c.multi_az().unwrap_or(false),
        availability_zones: c.availability_zones().to_vec(),
        storage_encrypted: c.storage_encrypted().unwrap_or(false),
        kms_key_id: c.kms_key_id().map(str::to_string),
        endpoint: c.endpoint().map(str::to_string),
        reader_endpoint: c.reader_endpoint().map(str::to_string),
        port: port(c.port()),
        publicly_accessible: c.publicly_accessible(),
        vpc_security_groups: vpc_sgs(c.vpc_security_groups()),
        db_subnet_group: c.db_subnet_group().map(str::to_string),
        db_cluster_parameter_group: c.db_cluster_parameter_group().map(str::to_string),
        backup_retention_period: c.backup_retention_period().unwrap_or(0),
        deletion_protection: c.deletion_protection().unwrap_or(false),
        iam_database_authentication_enabled: c
            .iam_database_authentication_enabled()
            .unwrap_or(false),
        enabled_cloudwatch_logs_exports: c.enabled_cloudwatch_logs_exports().to_vec(),
        copy_tags_to_snapshot: c.copy_tags_to_snapshot().unwrap_or(false),
        master_username: c.master_username().map(str::to_string),
        manage_master_user_password: c.master_user_secret().is_some(),
        backtrack_window: c.backtrack_window(),
        auto_minor_version_upgrade: c.auto_minor_version_upgrade(),
        db_cluster_instance_class: c.db_cluster_instance_class().map(str::to_string),
        global_cluster_identifier: c.global_cluster_identifier().map(str::to_string),
        monitoring_interval: c.monitoring_interval(),
        engine_lifecycle_support: c.engine_lifecycle_support().map(str::to_string),
        activity_stream_status: c.activity_stream_status().map(|s| s.as_str().to_string()),
        tags: tags(c.tag_list()),
    }
}

/// The `restore` attribute: `all` means public, account ids mean shared.
fn restore_attribute<'a>(
    attributes: impl Iterator<Item = (Option<&'a str>, &'a [String])>,
) -> RestoreAttribute {
    let mut out = RestoreAttribute::default();
    for (name, values) in attributes {
        if name != Some("restore") {
            continue;
        }
        for v in values {
            if v == "all" {
                out.public = true;
            } else if !out.shared_with.contains(v) {
                out.shared_with.push(v.clone());
            }
        }
    }
    out
}

/// Automated snapshots cannot be shared, so their attributes are not requested.
fn may_be_shared(snapshot_type: &str) -> bool {
    snapshot_type != "automated"
}

async fn snapshots(ctx: &Ctx<'_>, rc: &RegionClients, gaps: &Gaps) -> Vec<DbSnapshot> {
    let region = rc.region.as_str();
    let op = ops::RDS_DESCRIBE_DB_SNAPSHOTS;
    let pages = ctx
        .pages(
            op,
            Scope::region(region),
            rc.rds
                .describe_db_snapshots()
                .max_records(PAGE)
                .into_paginator()
                .send(),
        )
        .await;
    let mut out: Vec<DbSnapshot> = gaps
        .ok(pages)
        .unwrap_or_default()
        .iter()
        .flat_map(|p| p.db_snapshots())
        .filter(|s| is_rds_engine(s.engine()))
        .map(|s| DbSnapshot {
            identifier: s.db_snapshot_identifier().unwrap_or_default().to_string(),
            arn: s.db_snapshot_arn().unwrap_or_default().to_string(),
            source_identifier: s.db_instance_identifier().map(str::to_string),
            engine: s.engine().unwrap_or_default().to_string(),
            engine_version: s.engine_version().map(str::to_string),
            snapshot_type: s.snapshot_type().unwrap_or_default().to_string(),
            status: s.status().map(str::to_string),
            encrypted: s.encrypted().unwrap_or(false),
            kms_key_id: s.kms_key_id().map(str::to_string),
            snapshot_create_time: ts(s.snapshot_create_time()),
            restore: None,
            tags: tags(s.tag_list()),
        })
        .collect();

    let attr_op = ops::RDS_DESCRIBE_DB_SNAPSHOT_ATTRIBUTES;
    let restores = join_all(out.iter().map(|s| async move {
        if !may_be_shared(&s.snapshot_type) {
            return None;
        }
        let result = ctx
            .call(
                attr_op,
                Scope::item(region, &s.identifier),
                rc.rds
                    .describe_db_snapshot_attributes()
                    .db_snapshot_identifier(&s.identifier)
                    .send(),
            )
            .await;
        let r = gaps.ok(result)?;
        let attrs = r
            .db_snapshot_attributes_result()
            .map(|a| a.db_snapshot_attributes())
            .unwrap_or_default();
        Some(restore_attribute(
            attrs
                .iter()
                .map(|a| (a.attribute_name(), a.attribute_values())),
        ))
    }))
    .await;
    for (s, restore) in out.iter_mut().zip(restores) {
        s.restore = restore;
    }
    ctx.progress.op_done(&op.to_string(), Some(region));
    out
}

async fn cluster_snapshots(ctx: &Ctx<'_>, rc: &RegionClients, gaps: &Gaps) -> Vec<DbSnapshot> {
    let region = rc.region.as_str();
    let op = ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOTS;
    let pages = ctx
        .pages(
            op,
            Scope::region(region),
            rc.rds
                .describe_db_cluster_snapshots()
                .max_records(PAGE)
                .into_paginator()
                .send(),
        )
        .await;
    let mut out: Vec<DbSnapshot> = gaps
        .ok(pages)
        .unwrap_or_default()
        .iter()
        .flat_map(|p| p.db_cluster_snapshots())
        .filter(|s| is_rds_engine(s.engine()))
        .map(|s| DbSnapshot {
            identifier: s
                .db_cluster_snapshot_identifier()
                .unwrap_or_default()
                .to_string(),
            arn: s.db_cluster_snapshot_arn().unwrap_or_default().to_string(),
            source_identifier: s.db_cluster_identifier().map(str::to_string),
            engine: s.engine().unwrap_or_default().to_string(),
            engine_version: s.engine_version().map(str::to_string),
            snapshot_type: s.snapshot_type().unwrap_or_default().to_string(),
            status: s.status().map(str::to_string),
            encrypted: s.storage_encrypted().unwrap_or(false),
            kms_key_id: s.kms_key_id().map(str::to_string),
            snapshot_create_time: ts(s.snapshot_create_time()),
            restore: None,
            tags: tags(s.tag_list()),
        })
        .collect();

    let attr_op = ops::RDS_DESCRIBE_DB_CLUSTER_SNAPSHOT_ATTRIBUTES;
    let restores = join_all(out.iter().map(|s| async move {
        if !may_be_shared(&s.snapshot_type) {
            return None;
        }
        let result = ctx
            .call(
                attr_op,
                Scope::item(region, &s.identifier),
                rc.rds
                    .describe_db_cluster_snapshot_attributes()
                    .db_cluster_snapshot_identifier(&s.identifier)
                    .send(),
            )
            .await;
        let r = gaps.ok(result)?;
        let attrs = r
            .db_cluster_snapshot_attributes_result()
            .map(|a| a.db_cluster_snapshot_attributes())
            .unwrap_or_default();
        Some(restore_attribute(
            attrs
                .iter()
                .map(|a| (a.attribute_name(), a.attribute_values())),
        ))
    }))
    .await;
    for (s, restore) in out.iter_mut().zip(restores) {
        s.restore = restore;
    }
    ctx.progress.op_done(&op.to_string(), Some(region));
    out
}

/// Keep the security-relevant parameters of one group.
fn security_parameters<'a>(
    params: impl Iterator<Item = &'a sdk::Parameter>,
) -> BTreeMap<String, Parameter> {
    params
        .filter_map(|p| {
            let name = p.parameter_name()?;
            SECURITY_PARAMETERS.contains(&name).then(|| {
                (
                    name.to_string(),
                    Parameter {
                        value: p.parameter_value().map(str::to_string),
                        source: p.source().map(str::to_string),
                        apply_type: p.apply_type().map(str::to_string),
                    },
                )
            })
        })
        .collect()
}

async fn parameter_groups(ctx: &Ctx<'_>, rc: &RegionClients, gaps: &Gaps) -> Vec<ParameterGroup> {
    let region = rc.region.as_str();
    let op = ops::RDS_DESCRIBE_DB_PARAMETER_GROUPS;
    let pages = ctx
        .pages(
            op,
            Scope::region(region),
            rc.rds
                .describe_db_parameter_groups()
                .max_records(PAGE)
                .into_paginator()
                .send(),
        )
        .await;
    let mut groups: Vec<ParameterGroup> = gaps
        .ok(pages)
        .unwrap_or_default()
        .iter()
        .flat_map(|p| p.db_parameter_groups())
        .map(|g| ParameterGroup {
            name: g.db_parameter_group_name().unwrap_or_default().to_string(),
            arn: g.db_parameter_group_arn().map(str::to_string),
            family: g
                .db_parameter_group_family()
                .unwrap_or_default()
                .to_string(),
            description: g.description().map(str::to_string),
            parameters: BTreeMap::new(),
        })
        .collect();

    let params_op = ops::RDS_DESCRIBE_DB_PARAMETERS;
    let params = join_all(groups.iter().map(|g| async move {
        let pages = ctx
            .pages(
                params_op,
                Scope::item(region, &g.name),
                rc.rds
                    .describe_db_parameters()
                    .db_parameter_group_name(&g.name)
                    .max_records(PAGE)
                    .into_paginator()
                    .send(),
            )
            .await;
        gaps.ok(pages)
            .map(|pages| security_parameters(pages.iter().flat_map(|p| p.parameters())))
    }))
    .await;
    for (g, p) in groups.iter_mut().zip(params) {
        g.parameters = p.unwrap_or_default();
    }
    ctx.progress.op_done(&op.to_string(), Some(region));
    groups
}

async fn cluster_parameter_groups(
    ctx: &Ctx<'_>,
    rc: &RegionClients,
    gaps: &Gaps,
) -> Vec<ParameterGroup> {
    let region = rc.region.as_str();
    let op = ops::RDS_DESCRIBE_DB_CLUSTER_PARAMETER_GROUPS;
    let pages = ctx
        .pages(
            op,
            Scope::region(region),
            rc.rds
                .describe_db_cluster_parameter_groups()
                .max_records(PAGE)
                .into_paginator()
                .send(),
        )
        .await;
    let mut groups: Vec<ParameterGroup> = gaps
        .ok(pages)
        .unwrap_or_default()
        .iter()
        .flat_map(|p| p.db_cluster_parameter_groups())
        .map(|g| ParameterGroup {
            name: g
                .db_cluster_parameter_group_name()
                .unwrap_or_default()
                .to_string(),
            arn: g.db_cluster_parameter_group_arn().map(str::to_string),
            family: g
                .db_parameter_group_family()
                .unwrap_or_default()
                .to_string(),
            description: g.description().map(str::to_string),
            parameters: BTreeMap::new(),
        })
        .collect();

    let params_op = ops::RDS_DESCRIBE_DB_CLUSTER_PARAMETERS;
    let params = join_all(groups.iter().map(|g| async move {
        let pages = ctx
            .pages(
                params_op,
                Scope::item(region, &g.name),
                rc.rds
                    .describe_db_cluster_parameters()
                    .db_cluster_parameter_group_name(&g.name)
                    .max_records(PAGE)
                    .into_paginator()
                    .send(),
            )
            .await;
        gaps.ok(pages)
            .map(|pages| security_parameters(pages.iter().flat_map(|p| p.parameters())))
    }))
    .await;
    for (g, p) in groups.iter_mut().zip(params) {
        g.parameters = p.unwrap_or_default();
    }
    ctx.progress.op_done(&op.to_string(), Some(region));
    groups
}

async fn option_groups(ctx: &Ctx<'_>, rc: &RegionClients, gaps: &Gaps) -> Vec<OptionGroup> {
    let region = rc.region.as_str();
    let op = ops::RDS_DESCRIBE_OPTION_GROUPS;
    let pages = ctx
        .pages(
            op,
            Scope::region(region),
            rc.rds
                .describe_option_groups()
                .max_records(PAGE)
                .into_paginator()
                .send(),
        )
        .await;
    ctx.progress.op_done(&op.to_string(), Some(region));
    gaps.ok(pages)
        .unwrap_or_default()
        .iter()
        .flat_map(|p| p.option_groups_list())
        .map(|g| OptionGroup {
            name: g.option_group_name().unwrap_or_default().to_string(),
            arn: g.option_group_arn().map(str::to_string),
            engine_name: g.engine_name().unwrap_or_default().to_string(),
            major_engine_version: g.major_engine_version().unwrap_or_default().to_string(),
            options: g
                .options()
                .iter()
                .map(|o| OptionGroupOption {
                    option_name: o.option_name().unwrap_or_default().to_string(),
                    port: port(o.port()),
                    vpc_security_group_ids: o
                        .vpc_security_group_memberships()
                        .iter()
                        .filter_map(|m| m.vpc_security_group_id().map(str::to_string))
                        .collect(),
                    settings: o
                        .option_settings()
                        .iter()
                        .filter_map(|s| {
                            Some(OptionSetting {
                                name: s.name()?.to_string(),
                                value: s.value().map(str::to_string),
                            })
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

async fn subnet_groups(ctx: &Ctx<'_>, rc: &RegionClients, gaps: &Gaps) -> Vec<DbSubnetGroup> {
    let region = rc.region.as_str();
    let op = ops::RDS_DESCRIBE_DB_SUBNET_GROUPS;
    let pages = ctx
        .pages(
            op,
            Scope::region(region),
            rc.rds
                .describe_db_subnet_groups()
                .max_records(PAGE)
                .into_paginator()
                .send(),
        )
        .await;
    let mut groups: Vec<DbSubnetGroup> = gaps
        .ok(pages)
        .unwrap_or_default()
        .iter()
        .flat_map(|p| p.db_subnet_groups())
        .map(|g| DbSubnetGroup {
            name: g.db_subnet_group_name().unwrap_or_default().to_string(),
            arn: g.db_subnet_group_arn().map(str::to_string),
            vpc_id: g.vpc_id().map(str::to_string),
            subnet_ids: g
                .subnets()
                .iter()
                .filter_map(|s| s.subnet_identifier().map(str::to_string))
                .collect(),
            tags: Tags::new(),
        })
        .collect();
    // DescribeDBSubnetGroups carries no tags: one ListTagsForResource per group.
    let tags = join_all(
        groups
            .iter()
            .map(|g| resource_tags(ctx, rc, gaps, g.arn.as_deref(), &g.name)),
    )
    .await;
    for (g, t) in groups.iter_mut().zip(tags) {
        g.tags = t;
    }
    ctx.progress.op_done(&op.to_string(), Some(region));
    groups
}

/// Tags of a resource whose Describe answer has none (subnet groups, proxies). The gap names
/// the ARN (the name when there is no ARN); the tags are then empty and the gap says why.
async fn resource_tags(
    ctx: &Ctx<'_>,
    rc: &RegionClients,
    gaps: &Gaps,
    arn: Option<&str>,
    name: &str,
) -> Tags {
    let region = rc.region.as_str();
    let op = ops::RDS_LIST_TAGS_FOR_RESOURCE;
    let Some(arn) = arn.filter(|a| !a.is_empty()) else {
        gaps.push(
            rdsguard_model::Gap::new(
                op,
                Some(region),
                rdsguard_model::GapKind::Error,
                "the Describe answer has no ARN to read the tags of",
            )
            .with_resource(name),
        );
        return Tags::new();
    };
    let result = ctx
        .call(
            op,
            Scope::item(region, arn),
            rc.rds.list_tags_for_resource().resource_name(arn).send(),
        )
        .await;
    gaps.ok(result)
        .map(|out| tags(out.tag_list()))
        .unwrap_or_default()
}

async fn proxies(ctx: &Ctx<'_>, rc: &RegionClients, gaps: &Gaps) -> Vec<DbProxy> {
    let region = rc.region.as_str();
    let op = ops::RDS_DESCRIBE_DB_PROXIES;
    let pages = ctx
        .pages(
            op,
            Scope::region(region),
            rc.rds
                .describe_db_proxies()
                .max_records(PAGE)
                .into_paginator()
                .send(),
        )
        .await;
    let mut proxies: Vec<DbProxy> = gaps
        .ok(pages)
        .unwrap_or_default()
        .iter()
        .flat_map(|p| p.db_proxies())
        .map(|p| DbProxy {
            name: p.db_proxy_name().unwrap_or_default().to_string(),
            arn: p.db_proxy_arn().unwrap_or_default().to_string(),
            engine_family: p.engine_family().unwrap_or_default().to_string(),
            require_tls: p.require_tls().unwrap_or(false),
            vpc_id: p.vpc_id().map(str::to_string),
            vpc_security_group_ids: p.vpc_security_group_ids().to_vec(),
            vpc_subnet_ids: p.vpc_subnet_ids().to_vec(),
            endpoint: p.endpoint().map(str::to_string),
            auth: p
                .auth()
                .iter()
                .map(|a| ProxyAuth {
                    auth_scheme: a.auth_scheme().map(|s| s.as_str().to_string()),
                    iam_auth: a.iam_auth().map(|s| s.as_str().to_string()),
                    client_password_auth_type: a
                        .client_password_auth_type()
                        .map(|s| s.as_str().to_string()),
                    secret_arn: a.secret_arn().map(str::to_string),
                })
                .collect(),
            debug_logging: p.debug_logging().unwrap_or(false),
            status: p.status().map(|s| s.as_str().to_string()),
            tags: Tags::new(),
        })
        .collect();
    // DescribeDBProxies carries no tags: one ListTagsForResource per proxy.
    let tags = join_all(
        proxies
            .iter()
            .map(|p| resource_tags(ctx, rc, gaps, Some(&p.arn), &p.name)),
    )
    .await;
    for (p, t) in proxies.iter_mut().zip(tags) {
        p.tags = t;
    }
    ctx.progress.op_done(&op.to_string(), Some(region));
    proxies
}

async fn event_subscriptions(
    ctx: &Ctx<'_>,
    rc: &RegionClients,
    gaps: &Gaps,
) -> Vec<EventSubscription> {
    let region = rc.region.as_str();
    let op = ops::RDS_DESCRIBE_EVENT_SUBSCRIPTIONS;
    let pages = ctx
        .pages(
            op,
            Scope::region(region),
            rc.rds
                .describe_event_subscriptions()
                .max_records(PAGE)
                .into_paginator()
                .send(),
        )
        .await;
    ctx.progress.op_done(&op.to_string(), Some(region));
    gaps.ok(pages)
        .unwrap_or_default()
        .iter()
        .flat_map(|p| p.event_subscriptions_list())
        .map(|s| EventSubscription {
            name: s.cust_subscription_id().unwrap_or_default().to_string(),
            arn: s.event_subscription_arn().map(str::to_string),
            sns_topic_arn: s.sns_topic_arn().map(str::to_string),
            source_type: s.source_type().map(str::to_string),
            source_ids: s.source_ids_list().to_vec(),
            event_categories: s.event_categories_list().to_vec(),
            enabled: s.enabled().unwrap_or(false),
            status: s.status().map(str::to_string),
        })
        .collect()
}

async fn certificates(ctx: &Ctx<'_>, rc: &RegionClients, gaps: &Gaps) -> Vec<CaCertificate> {
    let region = rc.region.as_str();
    let op = ops::RDS_DESCRIBE_CERTIFICATES;
    let pages = ctx
        .pages(
            op,
            Scope::region(region),
            rc.rds
                .describe_certificates()
                .max_records(PAGE)
                .into_paginator()
                .send(),
        )
        .await;
    ctx.progress.op_done(&op.to_string(), Some(region));
    gaps.ok(pages)
        .unwrap_or_default()
        .iter()
        .flat_map(|p| p.certificates())
        .map(|c| CaCertificate {
            certificate_identifier: c.certificate_identifier().unwrap_or_default().to_string(),
            certificate_type: c.certificate_type().map(str::to_string),
            valid_from: ts(c.valid_from()),
            valid_till: ts(c.valid_till()),
            customer_override: c.customer_override().unwrap_or(false),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_attribute_separates_public_from_shared() {
        let all = vec!["all".to_string(), "111122223333".to_string()];
        let other = vec!["999".to_string()];
        let r = restore_attribute(
            [
                (Some("restore"), all.as_slice()),
                (Some("something-else"), other.as_slice()),
            ]
            .into_iter(),
        );
        assert!(r.public);
        assert_eq!(r.shared_with, vec!["111122223333".to_string()]);
        let none = restore_attribute(std::iter::empty());
        assert!(!none.public && none.shared_with.is_empty());
    }

    #[test]
    fn only_security_parameters_are_kept() {
        let params = [
            sdk::Parameter::builder()
                .parameter_name("rds.force_ssl")
                .parameter_value("0")
                .source("user")
                .apply_type("dynamic")
                .build(),
            sdk::Parameter::builder()
                .parameter_name("work_mem")
                .parameter_value("4MB")
                .build(),
        ];
        let kept = security_parameters(params.iter());
        assert_eq!(kept.len(), 1);
        assert_eq!(kept["rds.force_ssl"].value.as_deref(), Some("0"));
        assert_eq!(kept["rds.force_ssl"].source.as_deref(), Some("user"));
    }

    #[test]
    fn automated_snapshots_are_never_shared() {
        assert!(!may_be_shared("automated"));
        assert!(may_be_shared("manual"));
        assert!(may_be_shared("awsbackup"));
    }
}
