//! Seeds a moto account through the AWS SDK for Rust with the scenario the integration tests
//! assert: a VPC with public and private subnets, an internet gateway and routes, a network
//! ACL, security groups (0.0.0.0/0 and ::/0 on 5432, a group reference, a prefix list), a
//! customer managed KMS key without rotation, encrypted and unencrypted instances, a public
//! PostgreSQL instance on a parameter group with rds.force_ssl=0, MySQL, Oracle with a TDE
//! option group, an Aurora PostgreSQL cluster with two members in different AZs, a public and a
//! shared manual snapshot, a shared cluster snapshot, an event subscription, a DB proxy, IAM
//! principals with inline, managed and boundary policies, and two CloudTrail trails.
//!
//! The one call that does not go through the SDK is the S3 bucket CreateTrail requires
//! (aws-sdk-s3 is not a dependency): a plain HTTP PUT, which moto accepts unsigned.

use aws_sdk_cloudtrail::types as ct;
use aws_sdk_ec2::types as ec2t;
use aws_sdk_rds::types as rdst;
use aws_types::SdkConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::REGION;

/// Identifiers of what was seeded, for the assertions.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub account: String,
    pub vpc_id: String,
    pub public_subnets: Vec<String>,
    pub private_subnets: Vec<String>,
    pub igw_id: String,
    pub public_route_table: String,
    pub nacl_id: String,
    pub sg_public: String,
    pub sg_private: String,
    pub sg_app: String,
    pub prefix_list_id: String,
    pub key_id: String,
    pub key_arn: String,
    pub managed_policy_arn: String,
    pub boundary_arn: String,
    pub trail_arn: String,
    pub quiet_trail_arn: String,
}

pub const SHARED_WITH: &str = "111122223333";
pub const CLUSTER_SHARED_WITH: &str = "444455556666";
pub const RDS_ADMIN_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds:*","Resource":"*"}]}"#;
pub const BOUNDARY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["rds:Describe*","kms:Decrypt"],"Resource":"*"}]}"#;
/// The grantee of the KMS grant on the test key.
pub const VENDOR_GRANTEE: &str = "arn:aws:iam::210987654321:role/vendor-export";
pub const INLINE_KMS_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}"#;
pub const TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn rds_tag(k: &str, v: &str) -> rdst::Tag {
    rdst::Tag::builder().key(k).value(v).build()
}

/// Create an S3 bucket in `account` with an unsigned-signature PUT (moto does not verify).
pub async fn create_bucket(endpoint: &str, account: &str, bucket: &str) {
    let host = endpoint.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    let req = format!(
        "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nAuthorization: AWS4-HMAC-SHA256 \
         Credential={account}/20260101/{REGION}/s3/aws4_request, SignedHeaders=host, \
         Signature=0\r\nx-amz-date: 20260101T000000Z\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).await.unwrap();
    assert!(
        resp.starts_with("HTTP/1.1 200"),
        "bucket creation failed: {resp}"
    );
}

/// Seed the whole scenario in the account of `sdk` (region us-east-1).
pub async fn scenario(sdk: &SdkConfig, endpoint: &str, account: &str) -> Seeded {
    let ec2 = aws_sdk_ec2::Client::new(sdk);
    let rds = aws_sdk_rds::Client::new(sdk);
    let kms = aws_sdk_kms::Client::new(sdk);
    let iam = aws_sdk_iam::Client::new(sdk);
    let trail = aws_sdk_cloudtrail::Client::new(sdk);

    // ---- network
    let vpc_id = ec2
        .create_vpc()
        .cidr_block("10.20.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_string();
    let mut subnets = Vec::new();
    for (cidr, az) in [
        ("10.20.1.0/24", "us-east-1a"),
        ("10.20.2.0/24", "us-east-1b"),
        ("10.20.11.0/24", "us-east-1a"),
        ("10.20.12.0/24", "us-east-1b"),
    ] {
        let id = ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(cidr)
            .availability_zone(az)
            .send()
            .await
            .unwrap()
            .subnet()
            .unwrap()
            .subnet_id()
            .unwrap()
            .to_string();
        subnets.push(id);
    }
    let public_subnets = subnets[..2].to_vec();
    let private_subnets = subnets[2..].to_vec();

    let igw_id = ec2
        .create_internet_gateway()
        .send()
        .await
        .unwrap()
        .internet_gateway()
        .unwrap()
        .internet_gateway_id()
        .unwrap()
        .to_string();
    ec2.attach_internet_gateway()
        .internet_gateway_id(&igw_id)
        .vpc_id(&vpc_id)
        .send()
        .await
        .unwrap();
    let public_route_table = ec2
        .create_route_table()
        .vpc_id(&vpc_id)
        .send()
        .await
        .unwrap()
        .route_table()
        .unwrap()
        .route_table_id()
        .unwrap()
        .to_string();
    ec2.create_route()
        .route_table_id(&public_route_table)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&igw_id)
        .send()
        .await
        .unwrap();
    ec2.create_route()
        .route_table_id(&public_route_table)
        .destination_ipv6_cidr_block("::/0")
        .gateway_id(&igw_id)
        .send()
        .await
        .unwrap();
    for s in &public_subnets {
        ec2.associate_route_table()
            .route_table_id(&public_route_table)
            .subnet_id(s)
            .send()
            .await
            .unwrap();
    }

    // A network ACL on the first private subnet: allow 5432 from the VPC, deny the rest.
    let nacl_id = ec2
        .create_network_acl()
        .vpc_id(&vpc_id)
        .send()
        .await
        .unwrap()
        .network_acl()
        .unwrap()
        .network_acl_id()
        .unwrap()
        .to_string();
    ec2.create_network_acl_entry()
        .network_acl_id(&nacl_id)
        .rule_number(100)
        .protocol("6")
        .rule_action(ec2t::RuleAction::Allow)
        .egress(false)
        .cidr_block("10.20.0.0/16")
        .port_range(ec2t::PortRange::builder().from(5432).to(5432).build())
        .send()
        .await
        .unwrap();
    ec2.create_network_acl_entry()
        .network_acl_id(&nacl_id)
        .rule_number(200)
        .protocol("-1")
        .rule_action(ec2t::RuleAction::Deny)
        .egress(false)
        .cidr_block("0.0.0.0/0")
        .send()
        .await
        .unwrap();
    let current = ec2
        .describe_network_acls()
        .filters(
            ec2t::Filter::builder()
                .name("association.subnet-id")
                .values(&private_subnets[0])
                .build(),
        )
        .send()
        .await
        .unwrap();
    let association_id = current
        .network_acls()
        .iter()
        .flat_map(|a| a.associations())
        .find(|a| a.subnet_id() == Some(private_subnets[0].as_str()))
        .and_then(|a| a.network_acl_association_id())
        .unwrap()
        .to_string();
    ec2.replace_network_acl_association()
        .association_id(association_id)
        .network_acl_id(&nacl_id)
        .send()
        .await
        .unwrap();

    let prefix_list_id = ec2
        .create_managed_prefix_list()
        .prefix_list_name("office")
        .address_family("IPv4")
        .max_entries(5)
        .entries(
            ec2t::AddPrefixListEntry::builder()
                .cidr("203.0.113.0/24")
                .description("office A")
                .build(),
        )
        .entries(
            ec2t::AddPrefixListEntry::builder()
                .cidr("198.51.100.0/24")
                .description("office B")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .prefix_list()
        .unwrap()
        .prefix_list_id()
        .unwrap()
        .to_string();

    let sg = |name: &'static str| {
        let ec2 = ec2.clone();
        let vpc_id = vpc_id.clone();
        async move {
            ec2.create_security_group()
                .group_name(name)
                .description(format!("{name} group"))
                .vpc_id(vpc_id)
                .send()
                .await
                .unwrap()
                .group_id()
                .unwrap()
                .to_string()
        }
    };
    let sg_app = sg("app").await;
    let sg_public = sg("db-public").await;
    let sg_private = sg("db-private").await;
    // 5432 open to the whole IPv4 and IPv6 internet.
    ec2.authorize_security_group_ingress()
        .group_id(&sg_public)
        .ip_permissions(
            ec2t::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(5432)
                .to_port(5432)
                .ip_ranges(ec2t::IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .ipv6_ranges(ec2t::Ipv6Range::builder().cidr_ipv6("::/0").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    // 3306 from the app group (a reference), 5432 from the office prefix list.
    ec2.authorize_security_group_ingress()
        .group_id(&sg_private)
        .ip_permissions(
            ec2t::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(3306)
                .to_port(3306)
                .user_id_group_pairs(
                    ec2t::UserIdGroupPair::builder()
                        .group_id(&sg_app)
                        .user_id(account)
                        .description("from app")
                        .build(),
                )
                .build(),
        )
        .ip_permissions(
            ec2t::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(5432)
                .to_port(5432)
                .prefix_list_ids(
                    ec2t::PrefixListId::builder()
                        .prefix_list_id(&prefix_list_id)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();

    // ---- KMS: a customer managed key, rotation left off.
    let key = kms
        .create_key()
        .description("rdsguard test CMK")
        .send()
        .await
        .unwrap();
    let meta = key.key_metadata().unwrap();
    let key_id = meta.key_id().to_string();
    let key_arn = meta.arn().unwrap().to_string();
    kms.create_alias()
        .alias_name("alias/rdsguard-test")
        .target_key_id(&key_id)
        .send()
        .await
        .unwrap();
    // A grant to a vendor's role, limited to one encryption context: collected in full.
    kms.create_grant()
        .key_id(&key_id)
        .name("vendor-export")
        .grantee_principal(VENDOR_GRANTEE)
        .operations(aws_sdk_kms::types::GrantOperation::Decrypt)
        .operations(aws_sdk_kms::types::GrantOperation::DescribeKey)
        .constraints(
            aws_sdk_kms::types::GrantConstraints::builder()
                .encryption_context_subset("app", "orders")
                .build(),
        )
        .send()
        .await
        .unwrap();

    // ---- RDS
    rds.create_db_subnet_group()
        .db_subnet_group_name("db-private")
        .db_subnet_group_description("db-private")
        .set_subnet_ids(Some(private_subnets.clone()))
        .tags(rds_tag("tier", "data"))
        .send()
        .await
        .unwrap();
    rds.create_db_subnet_group()
        .db_subnet_group_name("db-public")
        .db_subnet_group_description("db-public")
        .set_subnet_ids(Some(public_subnets.clone()))
        .send()
        .await
        .unwrap();
    rds.create_db_parameter_group()
        .db_parameter_group_name("pg-insecure")
        .db_parameter_group_family("postgres16")
        .description("TLS not enforced")
        .send()
        .await
        .unwrap();
    rds.modify_db_parameter_group()
        .db_parameter_group_name("pg-insecure")
        .parameters(
            rdst::Parameter::builder()
                .parameter_name("rds.force_ssl")
                .parameter_value("0")
                .apply_method(rdst::ApplyMethod::Immediate)
                .build(),
        )
        .parameters(
            rdst::Parameter::builder()
                .parameter_name("log_connections")
                .parameter_value("1")
                .apply_method(rdst::ApplyMethod::Immediate)
                .build(),
        )
        .parameters(
            rdst::Parameter::builder()
                .parameter_name("work_mem")
                .parameter_value("4096")
                .apply_method(rdst::ApplyMethod::Immediate)
                .build(),
        )
        .send()
        .await
        .unwrap();
    rds.create_db_cluster_parameter_group()
        .db_cluster_parameter_group_name("cpg-aurora")
        .db_parameter_group_family("aurora-postgresql15")
        .description("TLS enforced")
        .send()
        .await
        .unwrap();
    rds.modify_db_cluster_parameter_group()
        .db_cluster_parameter_group_name("cpg-aurora")
        .parameters(
            rdst::Parameter::builder()
                .parameter_name("rds.force_ssl")
                .parameter_value("1")
                .apply_method(rdst::ApplyMethod::Immediate)
                .build(),
        )
        .send()
        .await
        .unwrap();
    rds.create_option_group()
        .option_group_name("og-oracle-tde")
        .engine_name("oracle-ee")
        .major_engine_version("19")
        .option_group_description("Oracle with TDE")
        .send()
        .await
        .unwrap();
    rds.modify_option_group()
        .option_group_name("og-oracle-tde")
        .options_to_include(
            rdst::OptionConfiguration::builder()
                .option_name("TDE")
                .build(),
        )
        .options_to_include(
            rdst::OptionConfiguration::builder()
                .option_name("NATIVE_NETWORK_ENCRYPTION")
                .option_settings(
                    rdst::OptionSetting::builder()
                        .name("SQLNET.ENCRYPTION_SERVER")
                        .value("REQUIRED")
                        .build(),
                )
                .build(),
        )
        .apply_immediately(true)
        .send()
        .await
        .unwrap();

    // The public, unencrypted PostgreSQL instance on the TLS-optional parameter group.
    rds.create_db_instance()
        .db_instance_identifier("pg-public")
        .engine("postgres")
        .engine_version("16.3")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("postgres")
        .master_user_password("not-a-secret-1")
        .publicly_accessible(true)
        .storage_encrypted(false)
        .db_subnet_group_name("db-public")
        .vpc_security_group_ids(&sg_public)
        .db_parameter_group_name("pg-insecure")
        .backup_retention_period(1)
        .tags(rds_tag("env", "prod"))
        .tags(rds_tag("owner", "team-a"))
        .send()
        .await
        .unwrap();
    // Encrypted with the CMK, private, hardened.
    rds.create_db_instance()
        .db_instance_identifier("pg-encrypted")
        .engine("postgres")
        .engine_version("16.3")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("dbowner")
        .master_user_password("not-a-secret-2")
        .publicly_accessible(false)
        .storage_encrypted(true)
        .kms_key_id(&key_arn)
        .db_subnet_group_name("db-private")
        .vpc_security_group_ids(&sg_private)
        .deletion_protection(true)
        .enable_iam_database_authentication(true)
        .enable_cloudwatch_logs_exports("postgresql")
        .copy_tags_to_snapshot(true)
        .backup_retention_period(14)
        .ca_certificate_identifier("rds-ca-rsa2048-g1")
        .send()
        .await
        .unwrap();
    rds.create_db_instance()
        .db_instance_identifier("mysql-1")
        .engine("mysql")
        .engine_version("8.0.39")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("admin")
        .master_user_password("not-a-secret-3")
        .publicly_accessible(false)
        .db_subnet_group_name("db-private")
        .vpc_security_group_ids(&sg_private)
        .multi_az(true)
        .send()
        .await
        .unwrap();
    rds.create_db_instance()
        .db_instance_identifier("oracle-1")
        .engine("oracle-ee")
        .engine_version("19.0.0.0.ru-2024-04.rur-2024-04.r1")
        .license_model("bring-your-own-license")
        .db_instance_class("db.m5.large")
        .allocated_storage(100)
        .master_username("oradmin")
        .master_user_password("not-a-secret-4")
        .db_subnet_group_name("db-private")
        .vpc_security_group_ids(&sg_private)
        .option_group_name("og-oracle-tde")
        .send()
        .await
        .unwrap();

    rds.create_db_cluster()
        .db_cluster_identifier("aurora-pg")
        .engine("aurora-postgresql")
        .engine_version("15.4")
        .master_username("clusteradmin")
        .master_user_password("not-a-secret-5")
        .db_subnet_group_name("db-private")
        .vpc_security_group_ids(&sg_private)
        .db_cluster_parameter_group_name("cpg-aurora")
        .storage_encrypted(true)
        .kms_key_id(&key_arn)
        .deletion_protection(true)
        .backup_retention_period(7)
        .tags(rds_tag("env", "prod"))
        .send()
        .await
        .unwrap();
    for (id, az) in [("aurora-pg-1", "us-east-1a"), ("aurora-pg-2", "us-east-1b")] {
        rds.create_db_instance()
            .db_instance_identifier(id)
            .db_cluster_identifier("aurora-pg")
            .engine("aurora-postgresql")
            .db_instance_class("db.r6g.large")
            .availability_zone(az)
            .send()
            .await
            .unwrap();
    }

    rds.create_db_snapshot()
        .db_snapshot_identifier("snap-public")
        .db_instance_identifier("pg-public")
        .tags(rds_tag("purpose", "migration"))
        .send()
        .await
        .unwrap();
    rds.modify_db_snapshot_attribute()
        .db_snapshot_identifier("snap-public")
        .attribute_name("restore")
        .values_to_add("all")
        .send()
        .await
        .unwrap();
    rds.create_db_snapshot()
        .db_snapshot_identifier("snap-shared")
        .db_instance_identifier("mysql-1")
        .send()
        .await
        .unwrap();
    rds.modify_db_snapshot_attribute()
        .db_snapshot_identifier("snap-shared")
        .attribute_name("restore")
        .values_to_add(SHARED_WITH)
        .send()
        .await
        .unwrap();
    rds.create_db_cluster_snapshot()
        .db_cluster_snapshot_identifier("csnap-aurora")
        .db_cluster_identifier("aurora-pg")
        .send()
        .await
        .unwrap();
    rds.modify_db_cluster_snapshot_attribute()
        .db_cluster_snapshot_identifier("csnap-aurora")
        .attribute_name("restore")
        .values_to_add(CLUSTER_SHARED_WITH)
        .send()
        .await
        .unwrap();

    rds.create_event_subscription()
        .subscription_name("rdsguard-events")
        .sns_topic_arn(format!("arn:aws:sns:{REGION}:{account}:rds-events"))
        .source_type("db-instance")
        .event_categories("failure")
        .event_categories("low storage")
        .enabled(true)
        .send()
        .await
        .unwrap();

    rds.create_db_proxy()
        .db_proxy_name("proxy-1")
        .engine_family(rdst::EngineFamily::Postgresql)
        .auth(
            rdst::UserAuthConfig::builder()
                .auth_scheme(rdst::AuthScheme::Secrets)
                .secret_arn(format!(
                    "arn:aws:secretsmanager:{REGION}:{account}:secret:db-proxy-AbCdEf"
                ))
                .iam_auth(rdst::IamAuthMode::Disabled)
                .build(),
        )
        .role_arn(format!("arn:aws:iam::{account}:role/proxy-role"))
        .set_vpc_subnet_ids(Some(private_subnets.clone()))
        .vpc_security_group_ids(&sg_private)
        .require_tls(false)
        .tags(rds_tag("team", "db"))
        .send()
        .await
        .unwrap();

    // ---- IAM
    let managed_policy_arn = iam
        .create_policy()
        .policy_name("rds-admin")
        .policy_document(RDS_ADMIN_POLICY)
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    let boundary_arn = iam
        .create_policy()
        .policy_name("db-boundary")
        .path("/boundaries/")
        .policy_document(BOUNDARY_POLICY)
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    iam.create_user().user_name("alice").send().await.unwrap();
    iam.put_user_policy()
        .user_name("alice")
        .policy_name("inline-kms")
        .policy_document(INLINE_KMS_POLICY)
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name("alice")
        .policy_arn(&managed_policy_arn)
        .send()
        .await
        .unwrap();
    iam.create_group().group_name("dbas").send().await.unwrap();
    iam.attach_group_policy()
        .group_name("dbas")
        .policy_arn(&managed_policy_arn)
        .send()
        .await
        .unwrap();
    iam.put_group_policy()
        .group_name("dbas")
        .policy_name("group-inline")
        .policy_document(INLINE_KMS_POLICY)
        .send()
        .await
        .unwrap();
    iam.add_user_to_group()
        .group_name("dbas")
        .user_name("alice")
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("db-operator")
        .assume_role_policy_document(TRUST_POLICY)
        .permissions_boundary(&boundary_arn)
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("db-operator")
        .policy_name("role-inline")
        .policy_document(RDS_ADMIN_POLICY)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("db-operator")
        .policy_arn(&managed_policy_arn)
        .send()
        .await
        .unwrap();

    // ---- CloudTrail: a logging multi-region trail recording write management events except
    // KMS, and a stopped trail with an advanced selector.
    let bucket = format!("trail-{account}");
    create_bucket(endpoint, account, &bucket).await;
    let trail_arn = trail
        .create_trail()
        .name("main-trail")
        .s3_bucket_name(&bucket)
        .is_multi_region_trail(true)
        .enable_log_file_validation(true)
        .send()
        .await
        .unwrap()
        .trail_arn()
        .unwrap()
        .to_string();
    trail.start_logging().name(&trail_arn).send().await.unwrap();
    trail
        .put_event_selectors()
        .trail_name(&trail_arn)
        .event_selectors(
            ct::EventSelector::builder()
                .read_write_type(ct::ReadWriteType::WriteOnly)
                .include_management_events(true)
                .exclude_management_event_sources("kms.amazonaws.com")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let quiet_trail_arn = trail
        .create_trail()
        .name("quiet-trail")
        .s3_bucket_name(&bucket)
        .send()
        .await
        .unwrap()
        .trail_arn()
        .unwrap()
        .to_string();
    trail
        .put_event_selectors()
        .trail_name(&quiet_trail_arn)
        .advanced_event_selectors(
            ct::AdvancedEventSelector::builder()
                .name("management reads")
                .field_selectors(
                    ct::AdvancedFieldSelector::builder()
                        .field("eventCategory")
                        .equals("Management")
                        .build()
                        .unwrap(),
                )
                .field_selectors(
                    ct::AdvancedFieldSelector::builder()
                        .field("readOnly")
                        .equals("true")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    // ---- Security Hub on.
    aws_sdk_securityhub::Client::new(sdk)
        .enable_security_hub()
        .send()
        .await
        .unwrap();

    Seeded {
        account: account.to_string(),
        vpc_id,
        public_subnets,
        private_subnets,
        igw_id,
        public_route_table,
        nacl_id,
        sg_public,
        sg_private,
        sg_app,
        prefix_list_id,
        key_id,
        key_arn,
        managed_policy_arn,
        boundary_arn,
        trail_arn,
        quiet_trail_arn,
    }
}
