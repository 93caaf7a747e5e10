//! Encryption in transit: TLS enforcement and minimum TLS version per engine (instances,
//! Aurora and Multi-AZ clusters, RDS Proxy), and the CA certificates servers present.
//!
//! Per engine, TLS is enforced by:
//! - PostgreSQL, SQL Server: `rds.force_ssl = 1` (Aurora PostgreSQL: in the cluster group);
//! - MySQL, MariaDB (10.5+), Aurora MySQL: `require_secure_transport = ON`;
//! - Db2: `db2comm = SSL` (`TCPIP,SSL` keeps the plaintext port open);
//! - Oracle: option `NATIVE_NETWORK_ENCRYPTION` with `SQLNET.ENCRYPTION_SERVER = REQUIRED`.
//!   The `SSL` option alone adds a TLS listener on a second port but leaves the plaintext
//!   listener on the database port accepting unencrypted sessions, so it does not enforce
//!   encryption (and RDS does not allow SSL and NNE together).
//!
//! Parameters a group does not report resolve to documented engine defaults
//! (`tls_defaults.rs`); unknown defaults and unreadable groups give NOT_ASSESSED. A group that is
//! not in sync (`pending-reboot`) fails even if its value is right: the running configuration
//! may differ until the reboot, and FSBP RDS.44/RDS.45 also fail groups that are not in sync.

#[path = "param_groups.rs"]
pub(crate) mod param_groups;
#[path = "tls_defaults.rs"]
pub(crate) mod tls_defaults;
#[path = "verdict.rs"]
pub(crate) mod verdict;

use std::borrow::Cow;
use std::cell::RefCell;

use rdsguard_findings::Severity;
use rdsguard_model::{DbCluster, DbInstance, ParameterGroup, ops};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use self::param_groups::{
    Attached, AttachedOptions, cluster_parameter_group, instance_option_groups,
    instance_parameter_group,
};
use self::tls_defaults::{
    NNE_ENCRYPTION_SERVER_DEFAULT, ORACLE_NNE, Unresolved, is_truthy, resolve,
};
use self::verdict::{Evidence, Verdict};
use super::common::{EngineFamily, FastMap, cluster_resource, instance_family, proxy_resource};
use super::instance::InstanceJudge;
use super::lookups::RegionLookups;
use crate::engine::{CheckDef, Emitter, RegionCtx, Runner, explaining};
use crate::{evidence, msg};

pub static CHECKS: &[&CheckDef] = &[
    &RDS_INSTANCE_TLS_ENFORCED,
    &RDS_CLUSTER_TLS_ENFORCED,
    &RDS_INSTANCE_MIN_TLS_VERSION,
    &RDS_CLUSTER_MIN_TLS_VERSION,
    &RDS_PROXY_TLS_REQUIRED,
    &RDS_INSTANCE_CERTIFICATE_EXPIRY,
    &RDS_INSTANCE_CA_OBSOLETE,
];

pub static RDS_INSTANCE_TLS_ENFORCED: CheckDef = CheckDef {
    id: "rds_instance_tls_enforced",
    title: "RDS DB instance accepts only TLS-encrypted connections",
    severity: Severity::High,
    resource_type: "AwsRdsDbInstance",
    description: "For each DB instance outside a cluster, checks the engine's server-side TLS \
                  enforcement: rds.force_ssl=1 (PostgreSQL, SQL Server), \
                  require_secure_transport=ON (MySQL, MariaDB 10.5+), db2comm=SSL (Db2), or \
                  the NATIVE_NETWORK_ENCRYPTION option with SQLNET.ENCRYPTION_SERVER=REQUIRED \
                  (Oracle). Parameters the group does not report resolve to documented engine \
                  defaults; groups pending a reboot fail until the change is applied. Cluster \
                  members are judged by rds_cluster_tls_enforced.",
    rationale: "Without server-side enforcement a client (or a downgrade attacker) can connect \
                in plaintext and expose credentials and data on the network.",
    remediation: "Use a custom parameter group with the engine's TLS parameter enforced (for \
                  Oracle, the NATIVE_NETWORK_ENCRYPTION option with SQLNET.ENCRYPTION_SERVER=\
                  REQUIRED), make sure every client uses TLS, then apply it and reboot if the \
                  parameter is static (`rdsguard fix --check rds_instance_tls_enforced`).",
    cis: &[],
    fsbp: &["RDS.38", "RDS.39", "RDS.41", "RDS.44"],
    depends_on: &[
        ops::RDS_DESCRIBE_DB_INSTANCES,
        ops::RDS_DESCRIBE_DB_PARAMETER_GROUPS,
        ops::RDS_DESCRIBE_DB_PARAMETERS,
        ops::RDS_DESCRIBE_OPTION_GROUPS,
    ],
    run: Runner::Instances(InstanceJudge::any(instance_tls_verdict)),
};

pub static RDS_CLUSTER_TLS_ENFORCED: CheckDef = CheckDef {
    id: "rds_cluster_tls_enforced",
    title: "RDS DB cluster accepts only TLS-encrypted connections",
    severity: Severity::High,
    resource_type: "AwsRdsDbCluster",
    description: "For each Aurora or Multi-AZ DB cluster, checks the TLS parameter in the DB \
                  cluster parameter group: rds.force_ssl=1 (PostgreSQL engines) or \
                  require_secure_transport=ON (MySQL engines). Parameters not reported resolve \
                  to documented engine defaults; a group not in sync on a member fails.",
    rationale: "Aurora and Multi-AZ clusters take TLS settings from the cluster parameter \
                group, not from their instances' groups (Prowler #2244); without enforcement \
                clients may connect in plaintext.",
    remediation: "Set rds.force_ssl=1 or require_secure_transport=ON in a custom DB cluster \
                  parameter group attached to the cluster, after making sure every client \
                  uses TLS.",
    cis: &[],
    fsbp: &[],
    depends_on: &[
        ops::RDS_DESCRIBE_DB_CLUSTERS,
        ops::RDS_DESCRIBE_DB_CLUSTER_PARAMETER_GROUPS,
        ops::RDS_DESCRIBE_DB_CLUSTER_PARAMETERS,
    ],
    run: Runner::Region(cluster_tls_enforced),
};

pub static RDS_INSTANCE_MIN_TLS_VERSION: CheckDef = CheckDef {
    id: "rds_instance_min_tls_version",
    title: "RDS DB instance refuses TLS versions below the configured minimum",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbInstance",
    description: "Checks the lowest TLS version a DB instance accepts against \
                  min_tls_version (default 1.2): ssl_min_protocol_version (PostgreSQL), \
                  tls_version (MySQL, MariaDB), rds.tls10/rds.tls11 (SQL Server, TLS 1.2 is \
                  always on), SQLNET.SSL_VERSION of the SSL option (Oracle). Cluster members are \
                  judged by rds_cluster_min_tls_version.",
    rationale: "TLS 1.0 and 1.1 are deprecated (RFC 8996) and allow downgrade to weak \
                ciphers.",
    remediation: "Raise the minimum protocol in a custom parameter group (or the Oracle SSL \
                  option's SQLNET.SSL_VERSION) after checking client support.",
    cis: &[],
    fsbp: &[],
    depends_on: &[
        ops::RDS_DESCRIBE_DB_INSTANCES,
        ops::RDS_DESCRIBE_DB_PARAMETER_GROUPS,
        ops::RDS_DESCRIBE_DB_PARAMETERS,
        ops::RDS_DESCRIBE_OPTION_GROUPS,
    ],
    run: Runner::Instances(InstanceJudge::any(instance_min_tls)),
};

pub static RDS_CLUSTER_MIN_TLS_VERSION: CheckDef = CheckDef {
    id: "rds_cluster_min_tls_version",
    title: "RDS DB cluster refuses TLS versions below the configured minimum",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbCluster",
    description: "Checks the lowest TLS version an Aurora or Multi-AZ DB cluster accepts \
                  against min_tls_version (default 1.2), from its DB cluster parameter group \
                  (ssl_min_protocol_version or tls_version).",
    rationale: "TLS 1.0 and 1.1 are deprecated (RFC 8996) and allow downgrade to weak \
                ciphers.",
    remediation: "Raise the minimum protocol in a custom DB cluster parameter group after \
                  checking client support.",
    cis: &[],
    fsbp: &[],
    depends_on: &[
        ops::RDS_DESCRIBE_DB_CLUSTERS,
        ops::RDS_DESCRIBE_DB_CLUSTER_PARAMETER_GROUPS,
        ops::RDS_DESCRIBE_DB_CLUSTER_PARAMETERS,
    ],
    run: Runner::Region(cluster_min_tls),
};

pub static RDS_PROXY_TLS_REQUIRED: CheckDef = CheckDef {
    id: "rds_proxy_tls_required",
    title: "RDS Proxy requires TLS for client connections",
    severity: Severity::Medium,
    resource_type: "AwsRdsDbProxy",
    description: "Checks RequireTLS on every RDS Proxy.",
    rationale: "A proxy that accepts plaintext connections exposes credentials and data even \
                when the database behind it enforces TLS.",
    remediation: "Modify the proxy with --require-tls after updating clients.",
    cis: &[],
    fsbp: &["RDS.43"],
    depends_on: &[ops::RDS_DESCRIBE_DB_PROXIES],
    run: Runner::Region(proxy_tls_required),
};

pub static RDS_INSTANCE_CERTIFICATE_EXPIRY: CheckDef = CheckDef {
    id: "rds_instance_certificate_expiry",
    title: "RDS DB instance server certificate is not about to expire",
    severity: Severity::High,
    resource_type: "AwsRdsDbInstance",
    description: "Checks when the certificate a DB instance presents expires: the server \
                  certificate's ValidTill, or else the validity of its CA from \
                  DescribeCertificates. Expired fails as critical, under 30 days as high, \
                  under certificate_expiry_days (default 90) as medium.",
    rationale: "Clients that verify certificates (sslmode=verify-full, JDBC with a trust \
                store) cannot connect once the certificate or its CA expires.",
    remediation: "Rotate the instance to a current CA (rds-ca-rsa2048-g1, rds-ca-rsa4096-g1 \
                  or rds-ca-ecc384-g1) after adding it to client trust stores.",
    cis: &[],
    fsbp: &[],
    // DescribeCertificates is only a fallback: without it the instance's own ValidTill still
    // decides, so its gap is handled per instance instead of failing the whole region.
    depends_on: &[ops::RDS_DESCRIBE_DB_INSTANCES],
    run: Runner::Instances(InstanceJudge::any(certificate_expiry_verdict)),
};

pub static RDS_INSTANCE_CA_OBSOLETE: CheckDef = CheckDef {
    id: "rds_instance_ca_obsolete",
    title: "RDS DB instance does not use an obsolete CA",
    severity: Severity::High,
    resource_type: "AwsRdsDbInstance",
    description: "Fails DB instances whose CA is rds-ca-2015 or rds-ca-2019 (replaced by the \
                  G1 CAs; rds-ca-2019 expired in August 2024 in most regions), passes the \
                  current CAs rds-ca-rsa2048-g1, rds-ca-rsa4096-g1 and rds-ca-ecc384-g1, and \
                  judges other CAs by DescribeCertificates.",
    rationale: "An expired or retired CA breaks certificate verification and means the server \
                certificate was not rotated.",
    remediation: "Modify the instance with --ca-certificate-identifier rds-ca-rsa2048-g1 (or \
                  another current CA) after updating client trust stores.",
    cis: &[],
    fsbp: &[],
    depends_on: &[ops::RDS_DESCRIBE_DB_INSTANCES],
    run: Runner::Instances(InstanceJudge::any(ca_obsolete_verdict)),
};

// ---------------------------------------------------------------------------------------
// TLS enforcement

/// How a parameter-based engine enforces TLS.
struct ParamRule {
    parameter: &'static str,
    expected: &'static str,
    enforced: fn(&str) -> bool,
}

/// `db2comm = SSL` alone; `TCPIP,SSL` keeps the plaintext listener.
fn db2_ssl_only(value: &str) -> bool {
    let parts: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    !parts.is_empty() && parts.iter().all(|p| p.eq_ignore_ascii_case("SSL"))
}

fn param_rule(family: EngineFamily) -> Option<ParamRule> {
    match family {
        EngineFamily::Postgres | EngineFamily::AuroraPostgres | EngineFamily::SqlServer => {
            Some(ParamRule {
                parameter: "rds.force_ssl",
                expected: "1",
                enforced: is_truthy,
            })
        }
        EngineFamily::MySql | EngineFamily::MariaDb | EngineFamily::AuroraMySql => {
            Some(ParamRule {
                parameter: "require_secure_transport",
                expected: "ON",
                enforced: is_truthy,
            })
        }
        EngineFamily::Db2 => Some(ParamRule {
            parameter: "db2comm",
            expected: "SSL",
            enforced: db2_ssl_only,
        }),
        EngineFamily::Oracle | EngineFamily::Other => None,
    }
}

/// Engine identity shared by instances and clusters.
struct Subject<'a> {
    kind: &'a str,
    id: &'a str,
    engine: &'a str,
    engine_version: &'a str,
    /// Of `engine`.
    family: EngineFamily,
}

impl Subject<'_> {
    fn of_instance<'d>(ctx: &RegionCtx<'_>, db: &'d DbInstance) -> Subject<'d> {
        Subject {
            kind: "DB instance",
            id: &db.db_instance_identifier,
            engine: &db.engine,
            engine_version: &db.engine_version,
            family: instance_family(ctx, db),
        }
    }

    fn of_cluster(c: &DbCluster) -> Subject<'_> {
        Subject {
            kind: "DB cluster",
            id: &c.db_cluster_identifier,
            engine: &c.engine,
            engine_version: &c.engine_version,
            family: EngineFamily::of(&c.engine),
        }
    }

    fn family(&self) -> EngineFamily {
        self.family
    }

    fn base_evidence(&self, att: &Attached<'_, ParameterGroup>) -> Evidence {
        evidence! {
            "engine" => self.engine,
            "engine_version" => self.engine_version,
            "parameter_group" => att.group.name,
            "parameter_group_status" => att.status,
        }
    }
}

fn tls_by_parameter(
    s: &Subject<'_>,
    att: &Attached<'_, ParameterGroup>,
    rule: &ParamRule,
) -> Verdict {
    let mut ev = s.base_evidence(att);
    if explaining() {
        ev.insert("parameter".into(), rule.parameter.into());
        ev.insert("required_value".into(), rule.expected.into());
    }
    let verdict = match resolve(
        att.group,
        s.family(),
        s.engine,
        s.engine_version,
        rule.parameter,
    ) {
        Err(Unresolved::Unknown(reason)) => return Verdict::NotAssessed(reason),
        Err(Unresolved::Unsupported(reason)) => {
            if explaining() {
                ev.insert("value".into(), "unsupported".into());
            }
            Verdict::Fail(
                msg!(
                    "{} {} cannot enforce TLS server-side: {reason}; upgrade the engine",
                    s.kind,
                    s.id
                ),
                ev,
            )
        }
        Ok(r) => {
            if explaining() {
                ev.insert("value".into(), r.value.into());
                ev.insert("value_origin".into(), r.origin.to_string().into());
            }
            // Formatted only in messages, which are written only when explaining.
            let shown = format_args!("{}={} ({})", rule.parameter, r.value, r.origin);
            if (rule.enforced)(r.value) {
                Verdict::Pass(msg!("{} {} requires TLS: {shown}", s.kind, s.id), ev)
            } else if s.family() == EngineFamily::Db2
                && r.value.to_ascii_uppercase().contains("SSL")
            {
                Verdict::Fail(
                    msg!(
                        "{} {} offers TLS but still accepts plaintext connections on the TCPIP \
                         port: {shown}; set db2comm=SSL",
                        s.kind,
                        s.id
                    ),
                    ev,
                )
            } else {
                Verdict::Fail(
                    msg!(
                        "{} {} accepts unencrypted connections: {shown}",
                        s.kind,
                        s.id
                    ),
                    ev,
                )
            }
        }
    };
    verdict.pending(
        att.in_sync(),
        "parameter group",
        &att.group.name,
        att.status,
    )
}

fn option_evidence(db: &DbInstance, opts: &AttachedOptions<'_>) -> Evidence {
    evidence! {
        "engine" => db.engine,
        "engine_version" => db.engine_version,
        "option_groups" => opts.names(),
        "options" => opts.option_names(),
        "db_port" => db.port,
    }
}

/// Oracle: NNE with SQLNET.ENCRYPTION_SERVER=REQUIRED enforces encryption; SSL alone does not.
fn oracle_tls(ctx: &RegionCtx<'_>, db: &DbInstance) -> Verdict {
    let opts = match instance_option_groups(ctx.region, &RegionLookups::of(ctx), db) {
        Ok(o) => o,
        Err(reason) => return Verdict::NotAssessed(reason),
    };
    let id = &db.db_instance_identifier;
    let mut ev = option_evidence(db, &opts);
    if let Some((nne, att)) = opts.option("NATIVE_NETWORK_ENCRYPTION") {
        let (value, origin) = match nne.setting("SQLNET.ENCRYPTION_SERVER") {
            Some(v) => (v, "option group"),
            None => (NNE_ENCRYPTION_SERVER_DEFAULT, ORACLE_NNE),
        };
        if explaining() {
            ev.insert("sqlnet_encryption_server".into(), value.into());
            ev.insert("sqlnet_encryption_server_origin".into(), origin.into());
        }
        let verdict = if value.eq_ignore_ascii_case("REQUIRED") {
            Verdict::Pass(
                msg!(
                    "DB instance {id} requires Oracle native network encryption \
                     (SQLNET.ENCRYPTION_SERVER=REQUIRED in option group {})",
                    att.group.name
                ),
                ev,
            )
        } else {
            Verdict::Fail(
                msg!(
                    "DB instance {id} has native network encryption with \
                     SQLNET.ENCRYPTION_SERVER={value}, so clients that do not ask for \
                     encryption connect in plaintext; set it to REQUIRED"
                ),
                ev,
            )
        };
        return verdict.pending(att.in_sync(), "option group", &att.group.name, att.status);
    }
    if let Some((ssl, att)) = opts.option("SSL") {
        if explaining() {
            ev.insert("ssl_port".into(), ssl.port.into());
        }
        return Verdict::Fail(
            msg!(
                "DB instance {id} has the SSL option (TLS listener on port {}, option group {}), \
                 but its plaintext listener on port {} still accepts unencrypted sessions; RDS \
                 cannot close it and SSL cannot be combined with NNE, so either block that port \
                 for all clients or use NATIVE_NETWORK_ENCRYPTION with \
                 SQLNET.ENCRYPTION_SERVER=REQUIRED instead",
                ssl.port.map_or("?".to_string(), |p| p.to_string()),
                att.group.name,
                db.port.map_or("?".to_string(), |p| p.to_string())
            ),
            ev,
        );
    }
    Verdict::Fail(
        msg!(
            "DB instance {id} has neither the NATIVE_NETWORK_ENCRYPTION nor the SSL option: all \
             connections are plaintext"
        ),
        ev,
    )
}

fn custom_engine(engine: &str) -> bool {
    engine.starts_with("custom-")
}

/// The statuses of the parameter-group TLS checks by what decides them: the check, the group
/// (by address), whether it is in sync, the engine family, engine and version. A large region
/// has thousands of instances on a few groups and versions, and resolving a parameter (its
/// engine default, a list of TLS versions) costs more than looking the status up. Only while
/// statuses alone are wanted: explained verdicts name the instance.
#[derive(Default)]
pub(crate) struct GroupVerdicts {
    known: RefCell<FastMap<GroupVerdictKey, Vec<EngineVerdict>>>,
}

/// The check, the group's address, whether it is in sync, the engine family.
type GroupVerdictKey = (u8, usize, bool, u8);

/// An engine, its version and the verdict for them.
type EngineVerdict = (Box<str>, Box<str>, Verdict);

/// The checks [`GroupVerdicts`] keeps verdicts of.
const TLS_ENFORCED: u8 = 0;
const MIN_TLS: u8 = 1;

impl GroupVerdicts {
    /// `decide`'s verdict for `s` on `att` (the same for every subject alike), decided once.
    fn of(
        ctx: &RegionCtx<'_>,
        check: u8,
        s: &Subject<'_>,
        att: &Attached<'_, ParameterGroup>,
        decide: impl FnOnce() -> Verdict,
    ) -> Verdict {
        if explaining() {
            return decide();
        }
        // Kept in the region's references: asked for each instance by two checks.
        let memo = ctx
            .refs
            .group_verdicts
            .get_or_init(|| ctx.memo.get_or_init_plain(GroupVerdicts::default));
        let key = (
            check,
            std::ptr::from_ref(att.group) as usize,
            att.in_sync(),
            s.family as u8,
        );
        let alike = |(engine, version, _): &&EngineVerdict| {
            **engine == *s.engine && **version == *s.engine_version
        };
        if let Some((_, _, v)) = memo
            .known
            .borrow()
            .get(&key)
            .and_then(|l| l.iter().find(alike))
        {
            return v.clone();
        }
        let verdict = decide();
        memo.known.borrow_mut().entry(key).or_default().push((
            s.engine.into(),
            s.engine_version.into(),
            verdict.clone(),
        ));
        verdict
    }
}

fn instance_tls_verdict(ctx: &RegionCtx<'_>, db: &DbInstance) -> Verdict {
    if let Some(c) = &db.db_cluster_identifier {
        return Verdict::NotApplicable(msg!(
            "member of DB cluster {c}: TLS is set by the cluster parameter group \
             (rds_cluster_tls_enforced)"
        ));
    }
    if custom_engine(&db.engine) {
        return Verdict::NotAssessed(msg!(
            "{} is RDS Custom: TLS is configured on the host, not visible through the RDS API",
            db.engine
        ));
    }
    let s = Subject::of_instance(ctx, db);
    match s.family() {
        EngineFamily::Oracle => oracle_tls(ctx, db),
        EngineFamily::Other => Verdict::NotApplicable(msg!(
            "engine {} is not an RDS database engine this check evaluates",
            db.engine
        )),
        family => {
            let Some(rule) = param_rule(family) else {
                return Verdict::NotAssessed(msg!("no TLS rule for engine {}", db.engine));
            };
            match instance_parameter_group(ctx.region, &RegionLookups::of(ctx), db) {
                Ok(att) => GroupVerdicts::of(ctx, TLS_ENFORCED, &s, &att, || {
                    tls_by_parameter(&s, &att, &rule)
                }),
                Err(reason) => Verdict::NotAssessed(reason),
            }
        }
    }
}

fn cluster_tls_verdict(ctx: &RegionCtx<'_>, c: &DbCluster) -> Verdict {
    let s = Subject::of_cluster(c);
    let Some(rule) = param_rule(s.family()).filter(|_| {
        matches!(
            s.family(),
            EngineFamily::Postgres
                | EngineFamily::AuroraPostgres
                | EngineFamily::MySql
                | EngineFamily::AuroraMySql
        )
    }) else {
        return Verdict::NotApplicable(msg!(
            "engine {} is not an RDS cluster engine this check evaluates",
            c.engine
        ));
    };
    match cluster_parameter_group(ctx.region, &RegionLookups::of(ctx), c) {
        Ok(att) => tls_by_parameter(&s, &att, &rule),
        Err(reason) => Verdict::NotAssessed(reason),
    }
}

fn cluster_tls_enforced(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    for c in &ctx.region.rds.db_clusters {
        if em.skip_unwanted() {
            continue;
        }
        cluster_tls_verdict(ctx, c).emit(em, cluster_resource(ctx, c));
    }
}

// ---------------------------------------------------------------------------------------
// Minimum TLS version

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TlsVersion {
    V1_0,
    V1_1,
    V1_2,
    V1_3,
}

impl TlsVersion {
    /// `1.2`, `TLSv1.2`, `tlsv1`, `TLS1.1`... (`TLSv1` means 1.0).
    pub(crate) fn parse(s: &str) -> Option<TlsVersion> {
        let s = rdsguard_model::trim(s);
        // The prefix in any case, without lower-casing a copy (versions are digits and dots).
        let strip = |prefix: &str| {
            s.get(..prefix.len())
                .filter(|p| p.eq_ignore_ascii_case(prefix))
                .map(|_| &s[prefix.len()..])
        };
        let v = strip("tlsv").or_else(|| strip("tls")).unwrap_or(s);
        match v {
            "1" | "1.0" => Some(TlsVersion::V1_0),
            "1.1" => Some(TlsVersion::V1_1),
            "1.2" => Some(TlsVersion::V1_2),
            "1.3" => Some(TlsVersion::V1_3),
            _ => None,
        }
    }

    /// The lowest version of a list (`TLSv1.2,TLSv1.3`, or Oracle's `1.2 or 1.0`).
    pub(crate) fn min_of_list(s: &str) -> Option<TlsVersion> {
        let parts: Vec<&str> = s
            .split([',', ' '])
            .map(str::trim)
            .filter(|p| !p.is_empty() && !p.eq_ignore_ascii_case("or"))
            .collect();
        if parts.is_empty() {
            return None;
        }
        let parsed: Option<Vec<TlsVersion>> = parts.iter().map(|p| TlsVersion::parse(p)).collect();
        parsed.and_then(|v| v.into_iter().min())
    }

    fn label(self) -> &'static str {
        match self {
            TlsVersion::V1_0 => "1.0",
            TlsVersion::V1_1 => "1.1",
            TlsVersion::V1_2 => "1.2",
            TlsVersion::V1_3 => "1.3",
        }
    }
}

fn required_tls(ctx: &RegionCtx<'_>) -> Result<TlsVersion, String> {
    TlsVersion::parse(&ctx.config.min_tls_version).ok_or_else(|| {
        format!(
            "min_tls_version `{}` is not one of 1.0, 1.1, 1.2, 1.3",
            ctx.config.min_tls_version
        )
    })
}

fn compare_min(
    s: &Subject<'_>,
    min: TlsVersion,
    required: TlsVersion,
    shown: std::fmt::Arguments<'_>,
    mut ev: Evidence,
) -> Verdict {
    if explaining() {
        ev.insert("lowest_accepted_tls".into(), min.label().into());
        ev.insert("required_min_tls".into(), required.label().into());
    }
    if min >= required {
        Verdict::Pass(
            msg!(
                "{} {} accepts TLS {} and later only ({shown})",
                s.kind,
                s.id,
                min.label()
            ),
            ev,
        )
    } else {
        Verdict::Fail(
            msg!(
                "{} {} accepts TLS {}, below the required {} ({shown})",
                s.kind,
                s.id,
                min.label(),
                required.label()
            ),
            ev,
        )
    }
}

/// SQL Server: TLS 1.2 is always on; 1.0 and 1.1 follow rds.tls10 / rds.tls11.
fn sqlserver_min_tls(
    s: &Subject<'_>,
    att: &Attached<'_, ParameterGroup>,
    required: TlsVersion,
    mut ev: Evidence,
) -> Verdict {
    if required == TlsVersion::V1_3 {
        return Verdict::Fail(
            msg!(
                "{} {} accepts TLS 1.2, which RDS for SQL Server cannot disable, below the \
                 required 1.3",
                s.kind,
                s.id
            ),
            ev,
        );
    }
    let mut lowest = TlsVersion::V1_2;
    for (param, version) in [
        ("rds.tls10", TlsVersion::V1_0),
        ("rds.tls11", TlsVersion::V1_1),
    ] {
        if version >= required {
            continue; // accepted or not, it does not go below the requirement
        }
        let r = match resolve(att.group, s.family(), s.engine, s.engine_version, param) {
            Ok(r) => r,
            Err(Unresolved::Unknown(reason) | Unresolved::Unsupported(reason)) => {
                return Verdict::NotAssessed(reason);
            }
        };
        // `default` means the documented engine default; resolve it from the table.
        let value = if r.value.eq_ignore_ascii_case("default") {
            match tls_defaults::engine_default(s.family(), s.engine_version, param) {
                (tls_defaults::DefaultValue::Value(v), _) => v,
                _ => {
                    return Verdict::NotAssessed(msg!(
                        "{param}=default and the default for {} {} is not documented",
                        s.engine,
                        s.engine_version
                    ));
                }
            }
        } else {
            r.value
        };
        if explaining() {
            ev.insert(param.into(), format!("{value} ({})", r.origin).into());
        }
        if value.eq_ignore_ascii_case("enabled") && version < lowest {
            lowest = version;
        } else if !value.eq_ignore_ascii_case("disabled") && !value.eq_ignore_ascii_case("enabled")
        {
            return Verdict::NotAssessed(msg!("unexpected value {param}={value}"));
        }
    }
    compare_min(s, lowest, required, format_args!("rds.tls10/rds.tls11"), ev)
}

fn min_tls_by_parameter(
    s: &Subject<'_>,
    att: &Attached<'_, ParameterGroup>,
    required: TlsVersion,
) -> Verdict {
    let ev = s.base_evidence(att);
    let parameter = match s.family() {
        EngineFamily::Postgres | EngineFamily::AuroraPostgres => "ssl_min_protocol_version",
        EngineFamily::MySql | EngineFamily::MariaDb | EngineFamily::AuroraMySql => "tls_version",
        EngineFamily::SqlServer => {
            return sqlserver_min_tls(s, att, required, ev).pending(
                att.in_sync(),
                "parameter group",
                &att.group.name,
                att.status,
            );
        }
        EngineFamily::Db2 => {
            return Verdict::NotAssessed(
                "Db2 TLS protocol versions are set in the Db2 SSL configuration, which the \
                 collector does not read"
                    .into(),
            );
        }
        EngineFamily::Oracle | EngineFamily::Other => {
            return Verdict::NotApplicable(msg!("engine {} has no TLS parameter", s.engine));
        }
    };
    let r = match resolve(att.group, s.family(), s.engine, s.engine_version, parameter) {
        Ok(r) => r,
        Err(Unresolved::Unknown(reason) | Unresolved::Unsupported(reason)) => {
            return Verdict::NotAssessed(reason);
        }
    };
    let Some(min) = TlsVersion::min_of_list(r.value) else {
        return Verdict::NotAssessed(msg!(
            "{parameter}={} is not a TLS version list rdsguard understands",
            r.value
        ));
    };
    let mut ev = ev;
    if explaining() {
        ev.insert("parameter".into(), parameter.into());
        ev.insert("value".into(), r.value.into());
        ev.insert("value_origin".into(), r.origin.to_string().into());
    }
    compare_min(
        s,
        min,
        required,
        format_args!("{parameter}={} from {}", r.value, r.origin),
        ev,
    )
    .pending(
        att.in_sync(),
        "parameter group",
        &att.group.name,
        att.status,
    )
}

fn oracle_min_tls(ctx: &RegionCtx<'_>, db: &DbInstance, required: TlsVersion) -> Verdict {
    let opts = match instance_option_groups(ctx.region, &RegionLookups::of(ctx), db) {
        Ok(o) => o,
        Err(reason) => return Verdict::NotAssessed(reason),
    };
    let Some((ssl, att)) = opts.option("SSL") else {
        return Verdict::NotApplicable(msg!(
            "DB instance {} has no SSL option, so no TLS listener (native network encryption is \
             not TLS)",
            db.db_instance_identifier
        ));
    };
    let Some(value) = ssl.setting("SQLNET.SSL_VERSION") else {
        return Verdict::NotAssessed(msg!(
            "the SSL option in option group {} does not report SQLNET.SSL_VERSION",
            att.group.name
        ));
    };
    let Some(min) = TlsVersion::min_of_list(value) else {
        return Verdict::NotAssessed(msg!("unexpected SQLNET.SSL_VERSION \"{value}\""));
    };
    let mut ev = option_evidence(db, &opts);
    if explaining() {
        ev.insert("sqlnet_ssl_version".into(), value.into());
    }
    let s = Subject::of_instance(ctx, db);
    compare_min(
        &s,
        min,
        required,
        format_args!(
            "SQLNET.SSL_VERSION=\"{value}\" in option group {}",
            att.group.name
        ),
        ev,
    )
    .pending(att.in_sync(), "option group", &att.group.name, att.status)
}

fn instance_min_tls_verdict(ctx: &RegionCtx<'_>, db: &DbInstance, required: TlsVersion) -> Verdict {
    if let Some(c) = &db.db_cluster_identifier {
        return Verdict::NotApplicable(msg!(
            "member of DB cluster {c}: TLS versions are set by the cluster parameter group \
             (rds_cluster_min_tls_version)"
        ));
    }
    if custom_engine(&db.engine) {
        return Verdict::NotAssessed(msg!(
            "{} is RDS Custom: TLS is configured on the host, not visible through the RDS API",
            db.engine
        ));
    }
    let s = Subject::of_instance(ctx, db);
    match s.family() {
        EngineFamily::Oracle => oracle_min_tls(ctx, db, required),
        EngineFamily::Other => Verdict::NotApplicable(msg!(
            "engine {} is not an RDS database engine this check evaluates",
            db.engine
        )),
        _ => match instance_parameter_group(ctx.region, &RegionLookups::of(ctx), db) {
            Ok(att) => GroupVerdicts::of(ctx, MIN_TLS, &s, &att, || {
                min_tls_by_parameter(&s, &att, required)
            }),
            Err(reason) => Verdict::NotAssessed(reason),
        },
    }
}

fn instance_min_tls(ctx: &RegionCtx<'_>, db: &DbInstance) -> Verdict {
    match required_tls(ctx) {
        Ok(r) => instance_min_tls_verdict(ctx, db, r),
        Err(reason) => Verdict::NotAssessed(reason),
    }
}

fn cluster_min_tls(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    let required = required_tls(ctx);
    for c in &ctx.region.rds.db_clusters {
        if em.skip_unwanted() {
            continue;
        }
        let s = Subject::of_cluster(c);
        let verdict = match (&required, s.family()) {
            (Err(reason), _) => Verdict::NotAssessed(reason.clone()),
            (
                Ok(r),
                EngineFamily::Postgres
                | EngineFamily::AuroraPostgres
                | EngineFamily::MySql
                | EngineFamily::AuroraMySql,
            ) => match cluster_parameter_group(ctx.region, &RegionLookups::of(ctx), c) {
                Ok(att) => min_tls_by_parameter(&s, &att, *r),
                Err(reason) => Verdict::NotAssessed(reason),
            },
            _ => Verdict::NotApplicable(msg!(
                "engine {} is not an RDS cluster engine this check evaluates",
                c.engine
            )),
        };
        verdict.emit(em, cluster_resource(ctx, c));
    }
}

// ---------------------------------------------------------------------------------------
// RDS Proxy

fn proxy_tls_required(ctx: &RegionCtx<'_>, em: &mut Emitter<'_>) {
    for p in &ctx.region.rds.db_proxies {
        let ev = evidence! {
            "require_tls" => p.require_tls,
            "engine_family" => p.engine_family,
        };
        let res = proxy_resource(ctx, p);
        if p.require_tls {
            em.pass(res, msg!("RDS Proxy {} requires TLS", p.name), ev);
        } else {
            em.fail(
                res,
                msg!(
                    "RDS Proxy {} accepts unencrypted client connections",
                    p.name
                ),
                ev,
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// CA certificates

/// CAs AWS has retired: rds-ca-2015 expired in March 2020, rds-ca-2019 in August 2024 in most
/// regions (AWS: "Rotating your SSL/TLS certificate").
const OBSOLETE_CA_PREFIXES: &[&str] = &["rds-ca-2015", "rds-ca-2019"];
/// The current CAs (valid until 2061 for rsa2048, 2121 for rsa4096 and ecc384).
const CURRENT_CAS: &[&str] = &["rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1"];

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(rdsguard_model::trim(s), &Rfc3339).ok()
}

/// How many distinct times a region keeps parsed (beyond, each is parsed on every use: a
/// region whose every instance has its own expiry gains nothing from keeping them).
const KEPT_TIMES: usize = 1024;

/// [`parse_time`] of a time the region's resources share, parsed once per region.
fn region_time(ctx: &RegionCtx<'_>, s: &str) -> Option<OffsetDateTime> {
    let mut times = ctx.refs.times.borrow_mut();
    if let Some(&t) = times.get(s) {
        return t;
    }
    let t = parse_time(s);
    if times.len() < KEPT_TIMES {
        times.insert(Box::from(s), t);
    }
    t
}

fn certificates_gap_note(ctx: &RegionCtx<'_>) -> String {
    ctx.region
        .gap(ops::RDS_DESCRIBE_CERTIFICATES, None)
        .map(|g| format!(" ({})", g.describe()))
        .unwrap_or_default()
}

fn certificate_expiry_verdict(ctx: &RegionCtx<'_>, db: &DbInstance) -> Verdict {
    let id = &db.db_instance_identifier;
    let ca = db.ca_certificate_identifier.as_deref();
    let ca_valid_till = ca.and_then(|ca| {
        ctx.region
            .rds
            .certificates
            .iter()
            .find(|c| c.certificate_identifier == ca)
            .and_then(|c| c.valid_till.as_deref())
    });
    let (valid_till, source) = match (db.certificate_valid_till.as_deref(), ca_valid_till) {
        (Some(v), _) => (
            v,
            Cow::Borrowed("server certificate (CertificateDetails.ValidTill)"),
        ),
        (None, Some(v)) => (
            v,
            Cow::Owned(format!(
                "CA certificate {} (DescribeCertificates)",
                ca.unwrap_or("?")
            )),
        ),
        (None, None) => {
            return Verdict::NotAssessed(msg!(
                "the expiry of DB instance {id}'s certificate is unknown: no CertificateDetails \
                 and CA {} is not listed by DescribeCertificates{}",
                ca.unwrap_or("(none reported)"),
                certificates_gap_note(ctx)
            ));
        }
    };
    let Some(expiry) = region_time(ctx, valid_till) else {
        return Verdict::NotAssessed(msg!(
            "certificate expiry \"{valid_till}\" of DB instance {id} is not an RFC 3339 time"
        ));
    };
    let days_left = (expiry - ctx.now).whole_days();
    let ev = evidence! {
        "ca_certificate_identifier" => ca,
        "valid_till" => valid_till,
        "valid_till_source" => source,
        "days_left" => days_left,
        "threshold_days" => ctx.config.certificate_expiry_days,
    };
    if expiry <= ctx.now {
        Verdict::FailAt(
            Severity::Critical,
            msg!("the certificate of DB instance {id} expired on {valid_till}"),
            ev,
        )
    } else if days_left < 30 {
        Verdict::FailAt(
            Severity::High,
            msg!("the certificate of DB instance {id} expires in {days_left} days ({valid_till})"),
            ev,
        )
    } else if days_left < ctx.config.certificate_expiry_days {
        Verdict::FailAt(
            Severity::Medium,
            msg!("the certificate of DB instance {id} expires in {days_left} days ({valid_till})"),
            ev,
        )
    } else {
        Verdict::Pass(
            msg!("the certificate of DB instance {id} is valid for {days_left} more days"),
            ev,
        )
    }
}

fn ca_obsolete_verdict(ctx: &RegionCtx<'_>, db: &DbInstance) -> Verdict {
    let id = &db.db_instance_identifier;
    let Some(ca) = db.ca_certificate_identifier.as_deref() else {
        return Verdict::NotAssessed(msg!("DB instance {id} reports no CA certificate"));
    };
    let listed = ctx
        .region
        .rds
        .certificates
        .iter()
        .find(|c| c.certificate_identifier == ca);
    let listed_till = listed.and_then(|c| c.valid_till.as_deref());
    let listed_expiry = listed_till.and_then(|t| region_time(ctx, t));
    let ev = evidence! {
        "ca_certificate_identifier" => ca,
        "ca_valid_till" => listed_till,
    };
    if OBSOLETE_CA_PREFIXES.iter().any(|p| ca.starts_with(p)) {
        return match listed_expiry {
            Some(t) if t > ctx.now => Verdict::FailAt(
                Severity::Medium,
                msg!(
                    "DB instance {id} uses the retired CA {ca} (still valid here until {}); \
                     move to rds-ca-rsa2048-g1 or another G1 CA",
                    listed_till.unwrap_or("?")
                ),
                ev,
            ),
            _ => Verdict::Fail(
                msg!(
                    "DB instance {id} uses the retired CA {ca}, which AWS replaced by the G1 CAs \
                     (rds-ca-2015 expired in 2020, rds-ca-2019 in 2024)"
                ),
                ev,
            ),
        };
    }
    if CURRENT_CAS.contains(&ca) {
        return Verdict::Pass(msg!("DB instance {id} uses the current CA {ca}"), ev);
    }
    match listed_expiry {
        Some(t) if t > ctx.now => Verdict::Pass(
            msg!(
                "DB instance {id} uses CA {ca}, valid until {}",
                listed_till.unwrap_or("?")
            ),
            ev,
        ),
        Some(_) => Verdict::Fail(
            msg!(
                "DB instance {id} uses CA {ca}, which expired on {}",
                listed_till.unwrap_or("?")
            ),
            ev,
        ),
        None => Verdict::NotAssessed(msg!(
            "CA {ca} of DB instance {id} is not a known RDS CA and DescribeCertificates does not \
             list its validity{}",
            certificates_gap_note(ctx)
        )),
    }
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
