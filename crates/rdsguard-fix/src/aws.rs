//! The [`Executor`] that performs plan steps with the AWS SDK for Rust.
//!
//! Each operation maps the step's parameters (AWS field names) onto the SDK request. A
//! parameter the mapping does not know is an error, never silently dropped: what is sent is
//! exactly what the plan showed. Calls that create named things tolerate "already exists"
//! (and look the thing up), and rule changes tolerate "duplicate" / "not found", so a step
//! interrupted mid-call can simply be made again on resume.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_rds::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_types::SdkConfig;
use aws_types::region::Region;
use serde_json::Value;

use crate::executor::{CallError, Executor, Verified};
use crate::journal::Outputs;
use crate::plan::{Step, WaitFor};

/// Performs steps through the AWS SDK.
#[derive(Clone)]
pub struct SdkExecutor {
    sdk: SdkConfig,
    /// How long to wait for a snapshot or instance to become available.
    pub wait_timeout: Duration,
    /// Time between two polls while waiting.
    pub poll_interval: Duration,
}

/// Where and how to connect.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub profile: Option<String>,
    /// The region global calls (STS, IAM) use; steps carry their own region.
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub max_attempts: u32,
}

impl SdkExecutor {
    /// From the standard credential chain (`--profile`, environment, SSO, IMDS...).
    pub async fn connect(opts: &ConnectOptions) -> SdkExecutor {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(p) = &opts.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &opts.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(u) = &opts.endpoint_url {
            loader = loader.endpoint_url(u);
        }
        loader = loader
            .retry_config(RetryConfig::adaptive().with_max_attempts(opts.max_attempts.max(1)));
        SdkExecutor::from_sdk_config(loader.load().await)
    }

    /// From an SDK configuration the caller built (tests, assumed roles).
    pub fn from_sdk_config(sdk: SdkConfig) -> SdkExecutor {
        SdkExecutor {
            sdk,
            wait_timeout: Duration::from_secs(3 * 3600),
            poll_interval: Duration::from_secs(20),
        }
    }

    fn region_of(&self, step: &Step) -> Region {
        step.region
            .clone()
            .map(Region::new)
            .or_else(|| self.sdk.region().cloned())
            .unwrap_or_else(|| Region::new("us-east-1"))
    }

    fn rds(&self, step: &Step) -> aws_sdk_rds::Client {
        aws_sdk_rds::Client::from_conf(
            aws_sdk_rds::config::Builder::from(&self.sdk)
                .region(self.region_of(step))
                .build(),
        )
    }

    fn ec2(&self, step: &Step) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::from_conf(
            aws_sdk_ec2::config::Builder::from(&self.sdk)
                .region(self.region_of(step))
                .build(),
        )
    }

    fn kms(&self, step: &Step) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::from_conf(
            aws_sdk_kms::config::Builder::from(&self.sdk)
                .region(self.region_of(step))
                .build(),
        )
    }

    fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk)
    }
}

/// Map an SDK error: the service's code and message, or a transport problem.
fn sdk_err<E, R>(e: SdkError<E, R>) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match e.code() {
        Some(code) => CallError::Service {
            code: code.to_string(),
            message: e.message().unwrap_or_default().to_string(),
        },
        None => CallError::Transport(DisplayErrorContext(&e).to_string()),
    }
}

fn code_is(e: &CallError, codes: &[&str]) -> bool {
    matches!(e, CallError::Service { code, .. } if codes.contains(&code.as_str()))
}

/// Typed access to a step's parameters, refusing keys the operation does not map.
struct P<'a> {
    v: &'a serde_json::Map<String, Value>,
}

impl<'a> P<'a> {
    fn new(v: &'a Value, allowed: &[&str]) -> Result<P<'a>, CallError> {
        let Some(obj) = v.as_object() else {
            return Err(CallError::Invalid("parameters are not an object".into()));
        };
        let unknown: Vec<&String> = obj
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .collect();
        if !unknown.is_empty() {
            return Err(CallError::Invalid(format!(
                "rdsguard cannot send {} with this operation",
                unknown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(P { v: obj })
    }
    fn s(&self, k: &str) -> Result<String, CallError> {
        self.os(k)
            .ok_or_else(|| CallError::Invalid(format!("{k} is missing or not a string")))
    }
    fn os(&self, k: &str) -> Option<String> {
        self.v.get(k).and_then(Value::as_str).map(str::to_string)
    }
    fn ob(&self, k: &str) -> Option<bool> {
        self.v.get(k).and_then(Value::as_bool)
    }
    fn oi(&self, k: &str) -> Option<i32> {
        self.v
            .get(k)
            .and_then(Value::as_i64)
            .and_then(|i| i32::try_from(i).ok())
    }
    fn strs(&self, k: &str) -> Option<Vec<String>> {
        self.v.get(k).and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
    }
    fn arr(&self, k: &str) -> Vec<&'a Value> {
        self.v
            .get(k)
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    }
    fn get(&self, k: &str) -> Option<&'a Value> {
        self.v.get(k)
    }
}

fn str_of(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

fn out(pairs: &[(&str, Option<String>)]) -> Outputs {
    pairs
        .iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v)))
        .collect()
}

fn ip_permission(v: &Value) -> aws_sdk_ec2::types::IpPermission {
    use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range, UserIdGroupPair};
    let mut b = IpPermission::builder().set_ip_protocol(str_of(v, "IpProtocol"));
    if let Some(f) = v.get("FromPort").and_then(Value::as_i64) {
        b = b.from_port(f as i32);
    }
    if let Some(t) = v.get("ToPort").and_then(Value::as_i64) {
        b = b.to_port(t as i32);
    }
    for r in v
        .get("IpRanges")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        b = b.ip_ranges(
            IpRange::builder()
                .set_cidr_ip(str_of(r, "CidrIp"))
                .set_description(str_of(r, "Description"))
                .build(),
        );
    }
    for r in v
        .get("Ipv6Ranges")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        b = b.ipv6_ranges(
            Ipv6Range::builder()
                .set_cidr_ipv6(str_of(r, "CidrIpv6"))
                .set_description(str_of(r, "Description"))
                .build(),
        );
    }
    for r in v
        .get("UserIdGroupPairs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        b = b.user_id_group_pairs(
            UserIdGroupPair::builder()
                .set_group_id(str_of(r, "GroupId"))
                .set_description(str_of(r, "Description"))
                .build(),
        );
    }
    b.build()
}

fn rds_tags(p: &P<'_>) -> Vec<aws_sdk_rds::types::Tag> {
    p.arr("Tags")
        .into_iter()
        .map(|t| {
            aws_sdk_rds::types::Tag::builder()
                .set_key(str_of(t, "Key"))
                .set_value(str_of(t, "Value"))
                .build()
        })
        .collect()
}

fn logs_config(v: Option<&Value>) -> Option<aws_sdk_rds::types::CloudwatchLogsExportConfiguration> {
    let v = v?;
    let list = |k: &str| -> Option<Vec<String>> {
        v.get(k).and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
    };
    Some(
        aws_sdk_rds::types::CloudwatchLogsExportConfiguration::builder()
            .set_enable_log_types(list("EnableLogTypes"))
            .set_disable_log_types(list("DisableLogTypes"))
            .build(),
    )
}

const MODIFY_INSTANCE_KEYS: &[&str] = &[
    "DBInstanceIdentifier",
    "ApplyImmediately",
    "PubliclyAccessible",
    "VpcSecurityGroupIds",
    "DBParameterGroupName",
    "OptionGroupName",
    "CACertificateIdentifier",
    "DeletionProtection",
    "BackupRetentionPeriod",
    "CopyTagsToSnapshot",
    "AutoMinorVersionUpgrade",
    "EnableIAMDatabaseAuthentication",
    "CloudwatchLogsExportConfiguration",
];

const MODIFY_CLUSTER_KEYS: &[&str] = &[
    "DBClusterIdentifier",
    "ApplyImmediately",
    "VpcSecurityGroupIds",
    "DBClusterParameterGroupName",
    "DeletionProtection",
    "BackupRetentionPeriod",
    "CopyTagsToSnapshot",
    "AutoMinorVersionUpgrade",
    "EnableIAMDatabaseAuthentication",
    "CloudwatchLogsExportConfiguration",
];

impl Executor for SdkExecutor {
    async fn account_id(&self) -> Result<String, CallError> {
        let sts = aws_sdk_sts::Client::new(&self.sdk);
        let id = sts.get_caller_identity().send().await.map_err(sdk_err)?;
        id.account()
            .map(str::to_string)
            .ok_or_else(|| CallError::Invalid("GetCallerIdentity returned no account".into()))
    }

    async fn call(&self, step: &Step, params: &Value) -> Result<Outputs, CallError> {
        let outputs = match (step.service.as_str(), step.operation.as_str()) {
            ("ec2", op) => self.ec2_call(step, op, params).await?,
            ("rds", op) => self.rds_call(step, op, params).await?,
            ("kms", op) => self.kms_call(step, op, params).await?,
            ("iam", op) => self.iam_call(op, params).await?,
            (s, op) => return Err(CallError::Unsupported(format!("{s}:{op}"))),
        };
        if let Some(wait) = step.wait {
            self.wait(step, wait, params, &outputs).await?;
        }
        Ok(outputs)
    }

    async fn verify(
        &self,
        step: &Step,
        params: &Value,
        outputs: &Outputs,
    ) -> Result<Verified, CallError> {
        match (step.service.as_str(), step.operation.as_str()) {
            ("ec2", "CreateSecurityGroup") => {
                let Some(id) = outputs.get("GroupId") else {
                    return Ok(Verified::No("no GroupId was recorded".into()));
                };
                match self
                    .ec2(step)
                    .describe_security_groups()
                    .group_ids(id)
                    .send()
                    .await
                {
                    Ok(r) if !r.security_groups().is_empty() => Ok(Verified::Yes),
                    Ok(_) => Ok(Verified::No(format!(
                        "security group {id} no longer exists"
                    ))),
                    Err(e) => {
                        let e = sdk_err(e);
                        if code_is(&e, &["InvalidGroup.NotFound"]) {
                            Ok(Verified::No(format!(
                                "security group {id} no longer exists"
                            )))
                        } else {
                            Err(e)
                        }
                    }
                }
            }
            ("rds", "ModifyDBInstance") => self.verify_instance(step, params).await,
            ("kms", "CreateKey") => {
                let Some(arn) = outputs.get("KeyArn") else {
                    return Ok(Verified::No("no KeyArn was recorded".into()));
                };
                let key = self
                    .kms(step)
                    .describe_key()
                    .key_id(arn)
                    .send()
                    .await
                    .map_err(sdk_err)?;
                let state = key
                    .key_metadata()
                    .and_then(|m| m.key_state())
                    .map(|s| s.as_str().to_string());
                Ok(match state.as_deref() {
                    Some("Enabled") => Verified::Yes,
                    other => Verified::No(format!("key {arn} is {}", other.unwrap_or("unknown"))),
                })
            }
            _ => Ok(Verified::NotCheckable),
        }
    }
}

impl SdkExecutor {
    async fn ec2_call(&self, step: &Step, op: &str, params: &Value) -> Result<Outputs, CallError> {
        let ec2 = self.ec2(step);
        match op {
            "CreateSecurityGroup" => {
                let p = P::new(
                    params,
                    &["GroupName", "Description", "VpcId", "TagSpecifications"],
                )?;
                let name = p.s("GroupName")?;
                let vpc = p.s("VpcId")?;
                let mut req = ec2
                    .create_security_group()
                    .group_name(&name)
                    .description(p.s("Description")?)
                    .vpc_id(&vpc);
                for spec in p.arr("TagSpecifications") {
                    let mut tb = aws_sdk_ec2::types::TagSpecification::builder()
                        .resource_type(aws_sdk_ec2::types::ResourceType::SecurityGroup);
                    for t in spec
                        .get("Tags")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        tb = tb.tags(
                            aws_sdk_ec2::types::Tag::builder()
                                .set_key(str_of(t, "Key"))
                                .set_value(str_of(t, "Value"))
                                .build(),
                        );
                    }
                    req = req.tag_specifications(tb.build());
                }
                match req.send().await.map_err(sdk_err) {
                    Ok(r) => Ok(out(&[("GroupId", r.group_id().map(str::to_string))])),
                    Err(e) if code_is(&e, &["InvalidGroup.Duplicate"]) => {
                        let filter = |n: &str, v: &str| {
                            aws_sdk_ec2::types::Filter::builder()
                                .name(n)
                                .values(v)
                                .build()
                        };
                        let found = ec2
                            .describe_security_groups()
                            .filters(filter("group-name", &name))
                            .filters(filter("vpc-id", &vpc))
                            .send()
                            .await
                            .map_err(sdk_err)?;
                        let id = found
                            .security_groups()
                            .first()
                            .and_then(|g| g.group_id())
                            .map(str::to_string);
                        Ok(out(&[("GroupId", id)]))
                    }
                    Err(e) => Err(e),
                }
            }
            "AuthorizeSecurityGroupIngress"
            | "AuthorizeSecurityGroupEgress"
            | "RevokeSecurityGroupIngress"
            | "RevokeSecurityGroupEgress" => {
                let p = P::new(params, &["GroupId", "IpPermissions"])?;
                let group = p.s("GroupId")?;
                let perms: Vec<_> = p
                    .arr("IpPermissions")
                    .into_iter()
                    .map(ip_permission)
                    .collect();
                let result = match op {
                    "AuthorizeSecurityGroupIngress" => ec2
                        .authorize_security_group_ingress()
                        .group_id(group)
                        .set_ip_permissions(Some(perms))
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(sdk_err),
                    "AuthorizeSecurityGroupEgress" => ec2
                        .authorize_security_group_egress()
                        .group_id(group)
                        .set_ip_permissions(Some(perms))
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(sdk_err),
                    "RevokeSecurityGroupIngress" => ec2
                        .revoke_security_group_ingress()
                        .group_id(group)
                        .set_ip_permissions(Some(perms))
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(sdk_err),
                    _ => ec2
                        .revoke_security_group_egress()
                        .group_id(group)
                        .set_ip_permissions(Some(perms))
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(sdk_err),
                };
                match result {
                    // Made already (an interrupted run): the state is what the step wants.
                    Err(e)
                        if code_is(
                            &e,
                            &["InvalidPermission.Duplicate", "InvalidPermission.NotFound"],
                        ) =>
                    {
                        Ok(Outputs::new())
                    }
                    other => other.map(|()| Outputs::new()),
                }
            }
            other => Err(CallError::Unsupported(format!("ec2:{other}"))),
        }
    }

    async fn rds_call(&self, step: &Step, op: &str, params: &Value) -> Result<Outputs, CallError> {
        let rds = self.rds(step);
        match op {
            "ModifyDBInstance" => {
                let p = P::new(params, MODIFY_INSTANCE_KEYS)?;
                rds.modify_db_instance()
                    .db_instance_identifier(p.s("DBInstanceIdentifier")?)
                    .set_apply_immediately(p.ob("ApplyImmediately"))
                    .set_publicly_accessible(p.ob("PubliclyAccessible"))
                    .set_vpc_security_group_ids(p.strs("VpcSecurityGroupIds"))
                    .set_db_parameter_group_name(p.os("DBParameterGroupName"))
                    .set_option_group_name(p.os("OptionGroupName"))
                    .set_ca_certificate_identifier(p.os("CACertificateIdentifier"))
                    .set_deletion_protection(p.ob("DeletionProtection"))
                    .set_backup_retention_period(p.oi("BackupRetentionPeriod"))
                    .set_copy_tags_to_snapshot(p.ob("CopyTagsToSnapshot"))
                    .set_auto_minor_version_upgrade(p.ob("AutoMinorVersionUpgrade"))
                    .set_enable_iam_database_authentication(p.ob("EnableIAMDatabaseAuthentication"))
                    .set_cloudwatch_logs_export_configuration(logs_config(
                        p.get("CloudwatchLogsExportConfiguration"),
                    ))
                    .send()
                    .await
                    .map_err(sdk_err)?;
                Ok(Outputs::new())
            }
            "ModifyDBCluster" => {
                let p = P::new(params, MODIFY_CLUSTER_KEYS)?;
                rds.modify_db_cluster()
                    .db_cluster_identifier(p.s("DBClusterIdentifier")?)
                    .set_apply_immediately(p.ob("ApplyImmediately"))
                    .set_vpc_security_group_ids(p.strs("VpcSecurityGroupIds"))
                    .set_db_cluster_parameter_group_name(p.os("DBClusterParameterGroupName"))
                    .set_deletion_protection(p.ob("DeletionProtection"))
                    .set_backup_retention_period(p.oi("BackupRetentionPeriod"))
                    .set_copy_tags_to_snapshot(p.ob("CopyTagsToSnapshot"))
                    .set_auto_minor_version_upgrade(p.ob("AutoMinorVersionUpgrade"))
                    .set_enable_iam_database_authentication(p.ob("EnableIAMDatabaseAuthentication"))
                    .set_cloudwatch_logs_export_configuration(logs_config(
                        p.get("CloudwatchLogsExportConfiguration"),
                    ))
                    .send()
                    .await
                    .map_err(sdk_err)?;
                Ok(Outputs::new())
            }
            "CreateDBParameterGroup" => {
                let p = P::new(
                    params,
                    &[
                        "DBParameterGroupName",
                        "DBParameterGroupFamily",
                        "Description",
                        "Tags",
                    ],
                )?;
                let name = p.s("DBParameterGroupName")?;
                let r = rds
                    .create_db_parameter_group()
                    .db_parameter_group_name(&name)
                    .db_parameter_group_family(p.s("DBParameterGroupFamily")?)
                    .description(p.s("Description")?)
                    .set_tags(Some(rds_tags(&p)))
                    .send()
                    .await
                    .map_err(sdk_err);
                match r {
                    Err(e)
                        if !code_is(
                            &e,
                            &[
                                "DBParameterGroupAlreadyExists",
                                "DBParameterGroupAlreadyExistsFault",
                            ],
                        ) =>
                    {
                        Err(e)
                    }
                    _ => Ok(out(&[("DBParameterGroupName", Some(name))])),
                }
            }
            "CreateDBClusterParameterGroup" => {
                let p = P::new(
                    params,
                    &[
                        "DBClusterParameterGroupName",
                        "DBParameterGroupFamily",
                        "Description",
                        "Tags",
                    ],
                )?;
                let name = p.s("DBClusterParameterGroupName")?;
                let r = rds
                    .create_db_cluster_parameter_group()
                    .db_cluster_parameter_group_name(&name)
                    .db_parameter_group_family(p.s("DBParameterGroupFamily")?)
                    .description(p.s("Description")?)
                    .set_tags(Some(rds_tags(&p)))
                    .send()
                    .await
                    .map_err(sdk_err);
                match r {
                    Err(e)
                        if !code_is(
                            &e,
                            &[
                                "DBParameterGroupAlreadyExists",
                                "DBParameterGroupAlreadyExistsFault",
                            ],
                        ) =>
                    {
                        Err(e)
                    }
                    _ => Ok(out(&[("DBClusterParameterGroupName", Some(name))])),
                }
            }
            "ModifyDBParameterGroup" | "ModifyDBClusterParameterGroup" => {
                let name_key = if op == "ModifyDBParameterGroup" {
                    "DBParameterGroupName"
                } else {
                    "DBClusterParameterGroupName"
                };
                let p = P::new(params, &[name_key, "Parameters"])?;
                let parameters: Vec<aws_sdk_rds::types::Parameter> = p
                    .arr("Parameters")
                    .into_iter()
                    .map(|x| {
                        aws_sdk_rds::types::Parameter::builder()
                            .set_parameter_name(str_of(x, "ParameterName"))
                            .set_parameter_value(str_of(x, "ParameterValue"))
                            .set_apply_method(
                                str_of(x, "ApplyMethod")
                                    .map(|m| aws_sdk_rds::types::ApplyMethod::from(m.as_str())),
                            )
                            .build()
                    })
                    .collect();
                if op == "ModifyDBParameterGroup" {
                    rds.modify_db_parameter_group()
                        .db_parameter_group_name(p.s(name_key)?)
                        .set_parameters(Some(parameters))
                        .send()
                        .await
                        .map_err(sdk_err)?;
                } else {
                    rds.modify_db_cluster_parameter_group()
                        .db_cluster_parameter_group_name(p.s(name_key)?)
                        .set_parameters(Some(parameters))
                        .send()
                        .await
                        .map_err(sdk_err)?;
                }
                Ok(Outputs::new())
            }
            "ModifyDBSnapshotAttribute" => {
                let p = P::new(
                    params,
                    &[
                        "DBSnapshotIdentifier",
                        "AttributeName",
                        "ValuesToRemove",
                        "ValuesToAdd",
                    ],
                )?;
                rds.modify_db_snapshot_attribute()
                    .db_snapshot_identifier(p.s("DBSnapshotIdentifier")?)
                    .attribute_name(p.s("AttributeName")?)
                    .set_values_to_remove(p.strs("ValuesToRemove"))
                    .set_values_to_add(p.strs("ValuesToAdd"))
                    .send()
                    .await
                    .map_err(sdk_err)?;
                Ok(Outputs::new())
            }
            "ModifyDBClusterSnapshotAttribute" => {
                let p = P::new(
                    params,
                    &[
                        "DBClusterSnapshotIdentifier",
                        "AttributeName",
                        "ValuesToRemove",
                        "ValuesToAdd",
                    ],
                )?;
                rds.modify_db_cluster_snapshot_attribute()
                    .db_cluster_snapshot_identifier(p.s("DBClusterSnapshotIdentifier")?)
                    .attribute_name(p.s("AttributeName")?)
                    .set_values_to_remove(p.strs("ValuesToRemove"))
                    .set_values_to_add(p.strs("ValuesToAdd"))
                    .send()
                    .await
                    .map_err(sdk_err)?;
                Ok(Outputs::new())
            }
            "RebootDBInstance" => {
                let p = P::new(params, &["DBInstanceIdentifier"])?;
                rds.reboot_db_instance()
                    .db_instance_identifier(p.s("DBInstanceIdentifier")?)
                    .send()
                    .await
                    .map_err(sdk_err)?;
                Ok(Outputs::new())
            }
            other => self.rds_create_call(&rds, other, params).await,
        }
    }

    /// Verify a ModifyDBInstance step: every setting it sent is what the instance reports.
    async fn verify_instance(&self, step: &Step, params: &Value) -> Result<Verified, CallError> {
        let Some(id) = str_of(params, "DBInstanceIdentifier") else {
            return Ok(Verified::NotCheckable);
        };
        let r = self
            .rds(step)
            .describe_db_instances()
            .db_instance_identifier(&id)
            .send()
            .await
            .map_err(sdk_err)?;
        let Some(db) = r.db_instances().first() else {
            return Ok(Verified::No(format!("DB instance {id} no longer exists")));
        };
        let mut wrong = Vec::new();
        let mut check = |name: &str, ok: bool| {
            if !ok {
                wrong.push(name.to_string());
            }
        };
        if let Some(v) = params.get("PubliclyAccessible").and_then(Value::as_bool) {
            check("PubliclyAccessible", db.publicly_accessible() == Some(v));
        }
        if let Some(v) = params.get("DeletionProtection").and_then(Value::as_bool) {
            check("DeletionProtection", db.deletion_protection() == Some(v));
        }
        if let Some(v) = params.get("CopyTagsToSnapshot").and_then(Value::as_bool) {
            check("CopyTagsToSnapshot", db.copy_tags_to_snapshot() == Some(v));
        }
        if let Some(v) = params
            .get("AutoMinorVersionUpgrade")
            .and_then(Value::as_bool)
        {
            check(
                "AutoMinorVersionUpgrade",
                db.auto_minor_version_upgrade() == Some(v),
            );
        }
        if let Some(v) = params
            .get("EnableIAMDatabaseAuthentication")
            .and_then(Value::as_bool)
        {
            check(
                "EnableIAMDatabaseAuthentication",
                db.iam_database_authentication_enabled() == Some(v),
            );
        }
        if let Some(v) = params.get("BackupRetentionPeriod").and_then(Value::as_i64) {
            check(
                "BackupRetentionPeriod",
                db.backup_retention_period().map(i64::from).unwrap_or(0) >= v,
            );
        }
        if let Some(v) = params
            .get("CACertificateIdentifier")
            .and_then(Value::as_str)
        {
            check(
                "CACertificateIdentifier",
                db.ca_certificate_identifier() == Some(v),
            );
        }
        if let Some(v) = params.get("DBParameterGroupName").and_then(Value::as_str) {
            check(
                "DBParameterGroupName",
                db.db_parameter_groups()
                    .iter()
                    .any(|g| g.db_parameter_group_name() == Some(v)),
            );
        }
        if let Some(ids) = params.get("VpcSecurityGroupIds").and_then(Value::as_array) {
            let want: BTreeSet<&str> = ids.iter().filter_map(Value::as_str).collect();
            let have: BTreeSet<&str> = db
                .vpc_security_groups()
                .iter()
                .filter_map(|g| g.vpc_security_group_id())
                .collect();
            check("VpcSecurityGroupIds", want == have);
        }
        Ok(if wrong.is_empty() {
            Verified::Yes
        } else {
            Verified::No(format!(
                "DB instance {id} no longer has the planned {}",
                wrong.join(", ")
            ))
        })
    }

    async fn wait(
        &self,
        step: &Step,
        wait: WaitFor,
        params: &Value,
        outputs: &Outputs,
    ) -> Result<(), CallError> {
        let rds = self.rds(step);
        let id = |keys: &[&str]| -> Result<String, CallError> {
            keys.iter()
                .find_map(|k| outputs.get(*k).cloned().or_else(|| str_of(params, k)))
                .ok_or_else(|| {
                    CallError::Invalid(format!("nothing to wait for: no {}", keys.join(" or ")))
                })
        };
        let started = std::time::Instant::now();
        loop {
            let status: Option<String> = match wait {
                WaitFor::DbSnapshotAvailable => {
                    let sid = id(&["DBSnapshotIdentifier", "TargetDBSnapshotIdentifier"])?;
                    rds.describe_db_snapshots()
                        .db_snapshot_identifier(&sid)
                        .send()
                        .await
                        .map_err(sdk_err)?
                        .db_snapshots()
                        .first()
                        .and_then(|s| s.status().map(str::to_string))
                }
                WaitFor::DbClusterSnapshotAvailable => {
                    let sid = id(&[
                        "DBClusterSnapshotIdentifier",
                        "TargetDBClusterSnapshotIdentifier",
                    ])?;
                    rds.describe_db_cluster_snapshots()
                        .db_cluster_snapshot_identifier(&sid)
                        .send()
                        .await
                        .map_err(sdk_err)?
                        .db_cluster_snapshots()
                        .first()
                        .and_then(|s| s.status().map(str::to_string))
                }
                WaitFor::DbInstanceAvailable => {
                    let iid = id(&["DBInstanceIdentifier"])?;
                    rds.describe_db_instances()
                        .db_instance_identifier(&iid)
                        .send()
                        .await
                        .map_err(sdk_err)?
                        .db_instances()
                        .first()
                        .and_then(|d| d.db_instance_status().map(str::to_string))
                }
                WaitFor::DbClusterAvailable => {
                    let cid = id(&["DBClusterIdentifier"])?;
                    rds.describe_db_clusters()
                        .db_cluster_identifier(&cid)
                        .send()
                        .await
                        .map_err(sdk_err)?
                        .db_clusters()
                        .first()
                        .and_then(|c| c.status().map(str::to_string))
                }
            };
            match status.as_deref() {
                Some("available") => return Ok(()),
                Some(
                    s @ ("failed" | "incompatible-restore" | "incompatible-parameters" | "error"),
                ) => {
                    return Err(CallError::Service {
                        code: "ResourceFailed".into(),
                        message: format!("the resource is {s}"),
                    });
                }
                _ => {}
            }
            if started.elapsed() >= self.wait_timeout {
                return Err(CallError::Timeout(format!(
                    "still {} after {} s; resume later with --resume",
                    status.as_deref().unwrap_or("unknown"),
                    self.wait_timeout.as_secs()
                )));
            }
            tokio::time::sleep(self.poll_interval).await;
        }
    }

    /// RDS calls that create resources (snapshots, copies, restores, option groups). Each
    /// tolerates "already exists" so that a step interrupted mid-call can be made again.
    async fn rds_create_call(
        &self,
        rds: &aws_sdk_rds::Client,
        op: &str,
        params: &Value,
    ) -> Result<Outputs, CallError> {
        let exists = |e: &CallError, codes: &[&str]| code_is(e, codes);
        match op {
            "CreateDBSnapshot" => {
                let p = P::new(
                    params,
                    &["DBInstanceIdentifier", "DBSnapshotIdentifier", "Tags"],
                )?;
                let sid = p.s("DBSnapshotIdentifier")?;
                let r = rds
                    .create_db_snapshot()
                    .db_instance_identifier(p.s("DBInstanceIdentifier")?)
                    .db_snapshot_identifier(&sid)
                    .set_tags(Some(rds_tags(&p)))
                    .send()
                    .await
                    .map_err(sdk_err);
                match r {
                    Err(e)
                        if !exists(
                            &e,
                            &["DBSnapshotAlreadyExists", "DBSnapshotAlreadyExistsFault"],
                        ) =>
                    {
                        Err(e)
                    }
                    _ => Ok(out(&[("DBSnapshotIdentifier", Some(sid))])),
                }
            }
            "CopyDBSnapshot" => {
                let p = P::new(
                    params,
                    &[
                        "SourceDBSnapshotIdentifier",
                        "TargetDBSnapshotIdentifier",
                        "KmsKeyId",
                        "CopyTags",
                    ],
                )?;
                let target = p.s("TargetDBSnapshotIdentifier")?;
                let r = rds
                    .copy_db_snapshot()
                    .source_db_snapshot_identifier(p.s("SourceDBSnapshotIdentifier")?)
                    .target_db_snapshot_identifier(&target)
                    .set_kms_key_id(p.os("KmsKeyId"))
                    .set_copy_tags(p.ob("CopyTags"))
                    .send()
                    .await
                    .map_err(sdk_err);
                match r {
                    Err(e)
                        if !exists(
                            &e,
                            &["DBSnapshotAlreadyExists", "DBSnapshotAlreadyExistsFault"],
                        ) =>
                    {
                        Err(e)
                    }
                    _ => Ok(out(&[("DBSnapshotIdentifier", Some(target))])),
                }
            }
            "CreateDBClusterSnapshot" => {
                let p = P::new(
                    params,
                    &["DBClusterIdentifier", "DBClusterSnapshotIdentifier", "Tags"],
                )?;
                let sid = p.s("DBClusterSnapshotIdentifier")?;
                let r = rds
                    .create_db_cluster_snapshot()
                    .db_cluster_identifier(p.s("DBClusterIdentifier")?)
                    .db_cluster_snapshot_identifier(&sid)
                    .set_tags(Some(rds_tags(&p)))
                    .send()
                    .await
                    .map_err(sdk_err);
                match r {
                    Err(e)
                        if !exists(
                            &e,
                            &[
                                "DBClusterSnapshotAlreadyExistsFault",
                                "DBClusterSnapshotAlreadyExists",
                            ],
                        ) =>
                    {
                        Err(e)
                    }
                    _ => Ok(out(&[("DBClusterSnapshotIdentifier", Some(sid))])),
                }
            }
            "CopyDBClusterSnapshot" => {
                let p = P::new(
                    params,
                    &[
                        "SourceDBClusterSnapshotIdentifier",
                        "TargetDBClusterSnapshotIdentifier",
                        "KmsKeyId",
                        "CopyTags",
                    ],
                )?;
                let target = p.s("TargetDBClusterSnapshotIdentifier")?;
                let r = rds
                    .copy_db_cluster_snapshot()
                    .source_db_cluster_snapshot_identifier(
                        p.s("SourceDBClusterSnapshotIdentifier")?,
                    )
                    .target_db_cluster_snapshot_identifier(&target)
                    .set_kms_key_id(p.os("KmsKeyId"))
                    .set_copy_tags(p.ob("CopyTags"))
                    .send()
                    .await
                    .map_err(sdk_err);
                match r {
                    Err(e)
                        if !exists(
                            &e,
                            &[
                                "DBClusterSnapshotAlreadyExistsFault",
                                "DBClusterSnapshotAlreadyExists",
                            ],
                        ) =>
                    {
                        Err(e)
                    }
                    _ => Ok(out(&[("DBClusterSnapshotIdentifier", Some(target))])),
                }
            }
            "RestoreDBInstanceFromDBSnapshot" => {
                let p = P::new(
                    params,
                    &[
                        "DBInstanceIdentifier",
                        "DBSnapshotIdentifier",
                        "DBInstanceClass",
                        "DBSubnetGroupName",
                        "VpcSecurityGroupIds",
                        "DBParameterGroupName",
                        "OptionGroupName",
                        "Port",
                        "MultiAZ",
                        "PubliclyAccessible",
                        "AutoMinorVersionUpgrade",
                        "CopyTagsToSnapshot",
                        "DeletionProtection",
                        "EnableIAMDatabaseAuthentication",
                        "EnableCloudwatchLogsExports",
                        "CACertificateIdentifier",
                        "StorageType",
                        "Tags",
                    ],
                )?;
                let id = p.s("DBInstanceIdentifier")?;
                let r = rds
                    .restore_db_instance_from_db_snapshot()
                    .db_instance_identifier(&id)
                    .db_snapshot_identifier(p.s("DBSnapshotIdentifier")?)
                    .set_db_instance_class(p.os("DBInstanceClass").filter(|c| !c.is_empty()))
                    .set_db_subnet_group_name(p.os("DBSubnetGroupName"))
                    .set_vpc_security_group_ids(p.strs("VpcSecurityGroupIds"))
                    .set_db_parameter_group_name(p.os("DBParameterGroupName"))
                    .set_option_group_name(p.os("OptionGroupName"))
                    .set_port(p.oi("Port"))
                    .set_multi_az(p.ob("MultiAZ"))
                    .set_publicly_accessible(p.ob("PubliclyAccessible"))
                    .set_auto_minor_version_upgrade(p.ob("AutoMinorVersionUpgrade"))
                    .set_copy_tags_to_snapshot(p.ob("CopyTagsToSnapshot"))
                    .set_deletion_protection(p.ob("DeletionProtection"))
                    .set_enable_iam_database_authentication(p.ob("EnableIAMDatabaseAuthentication"))
                    .set_enable_cloudwatch_logs_exports(p.strs("EnableCloudwatchLogsExports"))
                    .set_ca_certificate_identifier(p.os("CACertificateIdentifier"))
                    .set_storage_type(p.os("StorageType"))
                    .set_tags(Some(rds_tags(&p)))
                    .send()
                    .await
                    .map_err(sdk_err);
                match r {
                    Err(e)
                        if !exists(
                            &e,
                            &["DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault"],
                        ) =>
                    {
                        Err(e)
                    }
                    _ => Ok(out(&[("DBInstanceIdentifier", Some(id))])),
                }
            }
            "RestoreDBClusterFromSnapshot" => {
                let p = P::new(
                    params,
                    &[
                        "DBClusterIdentifier",
                        "SnapshotIdentifier",
                        "Engine",
                        "EngineVersion",
                        "VpcSecurityGroupIds",
                        "DeletionProtection",
                        "EnableIAMDatabaseAuthentication",
                        "CopyTagsToSnapshot",
                        "Tags",
                        "DBSubnetGroupName",
                        "DBClusterParameterGroupName",
                        "Port",
                        "EnableCloudwatchLogsExports",
                        "DBClusterInstanceClass",
                    ],
                )?;
                let id = p.s("DBClusterIdentifier")?;
                let r = rds
                    .restore_db_cluster_from_snapshot()
                    .db_cluster_identifier(&id)
                    .snapshot_identifier(p.s("SnapshotIdentifier")?)
                    .engine(p.s("Engine")?)
                    .set_engine_version(p.os("EngineVersion").filter(|v| !v.is_empty()))
                    .set_vpc_security_group_ids(p.strs("VpcSecurityGroupIds"))
                    .set_deletion_protection(p.ob("DeletionProtection"))
                    .set_enable_iam_database_authentication(p.ob("EnableIAMDatabaseAuthentication"))
                    .set_copy_tags_to_snapshot(p.ob("CopyTagsToSnapshot"))
                    .set_db_subnet_group_name(p.os("DBSubnetGroupName"))
                    .set_db_cluster_parameter_group_name(p.os("DBClusterParameterGroupName"))
                    .set_port(p.oi("Port"))
                    .set_enable_cloudwatch_logs_exports(p.strs("EnableCloudwatchLogsExports"))
                    .set_db_cluster_instance_class(p.os("DBClusterInstanceClass"))
                    .set_tags(Some(rds_tags(&p)))
                    .send()
                    .await
                    .map_err(sdk_err);
                match r {
                    Err(e)
                        if !exists(
                            &e,
                            &["DBClusterAlreadyExistsFault", "DBClusterAlreadyExists"],
                        ) =>
                    {
                        Err(e)
                    }
                    _ => Ok(out(&[("DBClusterIdentifier", Some(id))])),
                }
            }
            "CreateDBInstance" => {
                let p = P::new(
                    params,
                    &[
                        "DBInstanceIdentifier",
                        "DBClusterIdentifier",
                        "Engine",
                        "DBInstanceClass",
                        "PubliclyAccessible",
                        "AutoMinorVersionUpgrade",
                        "Tags",
                        "DBParameterGroupName",
                        "AvailabilityZone",
                    ],
                )?;
                let id = p.s("DBInstanceIdentifier")?;
                let r = rds
                    .create_db_instance()
                    .db_instance_identifier(&id)
                    .set_db_cluster_identifier(p.os("DBClusterIdentifier"))
                    .engine(p.s("Engine")?)
                    .db_instance_class(p.s("DBInstanceClass")?)
                    .set_publicly_accessible(p.ob("PubliclyAccessible"))
                    .set_auto_minor_version_upgrade(p.ob("AutoMinorVersionUpgrade"))
                    .set_db_parameter_group_name(p.os("DBParameterGroupName"))
                    .set_availability_zone(p.os("AvailabilityZone"))
                    .set_tags(Some(rds_tags(&p)))
                    .send()
                    .await
                    .map_err(sdk_err);
                match r {
                    Err(e)
                        if !exists(
                            &e,
                            &["DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault"],
                        ) =>
                    {
                        Err(e)
                    }
                    _ => Ok(out(&[("DBInstanceIdentifier", Some(id))])),
                }
            }
            "CreateOptionGroup" => {
                let p = P::new(
                    params,
                    &[
                        "OptionGroupName",
                        "EngineName",
                        "MajorEngineVersion",
                        "OptionGroupDescription",
                        "Tags",
                    ],
                )?;
                let name = p.s("OptionGroupName")?;
                let r = rds
                    .create_option_group()
                    .option_group_name(&name)
                    .engine_name(p.s("EngineName")?)
                    .major_engine_version(p.s("MajorEngineVersion")?)
                    .option_group_description(p.s("OptionGroupDescription")?)
                    .set_tags(Some(rds_tags(&p)))
                    .send()
                    .await
                    .map_err(sdk_err);
                match r {
                    Err(e)
                        if !exists(
                            &e,
                            &["OptionGroupAlreadyExistsFault", "OptionGroupAlreadyExists"],
                        ) =>
                    {
                        Err(e)
                    }
                    _ => Ok(out(&[("OptionGroupName", Some(name))])),
                }
            }
            "ModifyOptionGroup" => {
                let p = P::new(
                    params,
                    &["OptionGroupName", "OptionsToInclude", "ApplyImmediately"],
                )?;
                let options: Vec<aws_sdk_rds::types::OptionConfiguration> = p
                    .arr("OptionsToInclude")
                    .into_iter()
                    .map(|o| {
                        aws_sdk_rds::types::OptionConfiguration::builder()
                            .set_option_name(str_of(o, "OptionName"))
                            .build()
                    })
                    .collect();
                rds.modify_option_group()
                    .option_group_name(p.s("OptionGroupName")?)
                    .set_options_to_include(Some(options))
                    .set_apply_immediately(p.ob("ApplyImmediately"))
                    .send()
                    .await
                    .map_err(sdk_err)?;
                Ok(Outputs::new())
            }
            other => Err(CallError::Unsupported(format!("rds:{other}"))),
        }
    }

    async fn kms_call(&self, step: &Step, op: &str, params: &Value) -> Result<Outputs, CallError> {
        let kms = self.kms(step);
        match op {
            "CreateKey" => {
                let p = P::new(
                    params,
                    &["Description", "KeyUsage", "KeySpec", "Policy", "Tags"],
                )?;
                let tags: Vec<aws_sdk_kms::types::Tag> = p
                    .arr("Tags")
                    .into_iter()
                    .filter_map(|t| {
                        aws_sdk_kms::types::Tag::builder()
                            .set_tag_key(str_of(t, "TagKey"))
                            .set_tag_value(str_of(t, "TagValue"))
                            .build()
                            .ok()
                    })
                    .collect();
                let r = kms
                    .create_key()
                    .set_description(p.os("Description"))
                    .set_key_usage(
                        p.os("KeyUsage")
                            .map(|u| aws_sdk_kms::types::KeyUsageType::from(u.as_str())),
                    )
                    .set_key_spec(
                        p.os("KeySpec")
                            .map(|s| aws_sdk_kms::types::KeySpec::from(s.as_str())),
                    )
                    .set_policy(p.os("Policy"))
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .map_err(sdk_err)?;
                let meta = r.key_metadata();
                Ok(out(&[
                    ("KeyArn", meta.and_then(|m| m.arn()).map(str::to_string)),
                    ("KeyId", meta.map(|m| m.key_id().to_string())),
                ]))
            }
            "EnableKeyRotation" => {
                let p = P::new(params, &["KeyId"])?;
                kms.enable_key_rotation()
                    .key_id(p.s("KeyId")?)
                    .send()
                    .await
                    .map_err(sdk_err)?;
                Ok(Outputs::new())
            }
            "CreateAlias" => {
                let p = P::new(params, &["AliasName", "TargetKeyId"])?;
                let r = kms
                    .create_alias()
                    .alias_name(p.s("AliasName")?)
                    .target_key_id(p.s("TargetKeyId")?)
                    .send()
                    .await
                    .map_err(sdk_err);
                match r {
                    Err(e) if !code_is(&e, &["AlreadyExistsException"]) => Err(e),
                    _ => Ok(Outputs::new()),
                }
            }
            other => Err(CallError::Unsupported(format!("kms:{other}"))),
        }
    }

    async fn iam_call(&self, op: &str, params: &Value) -> Result<Outputs, CallError> {
        let iam = self.iam();
        let iam_tags = |p: &P<'_>| -> Vec<aws_sdk_iam::types::Tag> {
            p.arr("Tags")
                .into_iter()
                .filter_map(|t| {
                    aws_sdk_iam::types::Tag::builder()
                        .set_key(str_of(t, "Key"))
                        .set_value(str_of(t, "Value"))
                        .build()
                        .ok()
                })
                .collect()
        };
        let exists = |e: &CallError| code_is(e, &["EntityAlreadyExists"]);
        match op {
            "CreatePolicy" => {
                let p = P::new(
                    params,
                    &["PolicyName", "PolicyDocument", "Description", "Tags"],
                )?;
                let name = p.s("PolicyName")?;
                let r = iam
                    .create_policy()
                    .policy_name(&name)
                    .policy_document(p.s("PolicyDocument")?)
                    .set_description(p.os("Description"))
                    .set_tags(Some(iam_tags(&p)))
                    .send()
                    .await
                    .map_err(sdk_err);
                match r {
                    Ok(r) => Ok(out(&[(
                        "PolicyArn",
                        r.policy().and_then(|x| x.arn()).map(str::to_string),
                    )])),
                    Err(e) if exists(&e) => {
                        let account = self.account_id().await?;
                        Ok(out(&[(
                            "PolicyArn",
                            Some(format!("arn:aws:iam::{account}:policy/{name}")),
                        )]))
                    }
                    Err(e) => Err(e),
                }
            }
            "CreateUser" => {
                let p = P::new(params, &["UserName", "Tags"])?;
                let r = iam
                    .create_user()
                    .user_name(p.s("UserName")?)
                    .set_tags(Some(iam_tags(&p)))
                    .send()
                    .await
                    .map_err(sdk_err);
                match r {
                    Err(e) if !exists(&e) => Err(e),
                    _ => Ok(Outputs::new()),
                }
            }
            "CreateRole" => {
                let p = P::new(params, &["RoleName", "AssumeRolePolicyDocument", "Tags"])?;
                let r = iam
                    .create_role()
                    .role_name(p.s("RoleName")?)
                    .assume_role_policy_document(p.s("AssumeRolePolicyDocument")?)
                    .set_tags(Some(iam_tags(&p)))
                    .send()
                    .await
                    .map_err(sdk_err);
                match r {
                    Err(e) if !exists(&e) => Err(e),
                    _ => Ok(Outputs::new()),
                }
            }
            "AttachUserPolicy" => {
                let p = P::new(params, &["UserName", "PolicyArn"])?;
                iam.attach_user_policy()
                    .user_name(p.s("UserName")?)
                    .policy_arn(p.s("PolicyArn")?)
                    .send()
                    .await
                    .map_err(sdk_err)?;
                Ok(Outputs::new())
            }
            "AttachRolePolicy" => {
                let p = P::new(params, &["RoleName", "PolicyArn"])?;
                iam.attach_role_policy()
                    .role_name(p.s("RoleName")?)
                    .policy_arn(p.s("PolicyArn")?)
                    .send()
                    .await
                    .map_err(sdk_err)?;
                Ok(Outputs::new())
            }
            other => Err(CallError::Unsupported(format!("iam:{other}"))),
        }
    }
}
