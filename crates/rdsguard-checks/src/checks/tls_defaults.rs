//! Engine defaults of the TLS parameters, for parameter groups that do not report them.
//!
//! Real RDS reports every parameter of a group, engine defaults included (`Source:
//! engine-default`). Emulators such as moto report only parameters set explicitly, and a
//! collector may keep a group without a value for a parameter. In those cases the effective
//! value is the engine default, which depends on the engine and its version. Only defaults
//! documented by AWS (or by the engine vendor, for protocol support) are encoded; anything
//! else is [`DefaultValue::Unknown`] and the checks report NOT_ASSESSED, never PASS.
//!
//! | Engine | Parameter | Versions | Default | Source |
//! |---|---|---|---|---|
//! | RDS for PostgreSQL | `rds.force_ssl` | < 15 | `0` | [PG_CERT_ROTATION] |
//! | RDS for PostgreSQL | `rds.force_ssl` | >= 15 | `1` | [PG_CERT_ROTATION] |
//! | Aurora PostgreSQL | `rds.force_ssl` | < 17 | `0` | [APG_CERT_ROTATION] |
//! | Aurora PostgreSQL | `rds.force_ssl` | >= 17 | unknown | page predates Aurora PostgreSQL 17 |
//! | RDS for SQL Server | `rds.force_ssl` | all | `0` | [SQLSERVER_CERT_ROTATION] |
//! | RDS for MySQL | `require_secure_transport` | <= 8.4 | `OFF` | [MYSQL_REQUIRE_SSL] |
//! | RDS for MySQL | `require_secure_transport` | 8.5 – 9.6 | unknown | not documented |
//! | RDS for MySQL | `require_secure_transport` | >= 9.7 | `ON` | [MYSQL_REQUIRE_SSL] |
//! | RDS for MariaDB | `require_secure_transport` | < 10.5 | unsupported | [MARIADB_REQUIRE_SSL] |
//! | RDS for MariaDB | `require_secure_transport` | 10.5 – 11.4 | `OFF` | [MARIADB_REQUIRE_SSL] |
//! | RDS for MariaDB | `require_secure_transport` | >= 11.8 | `ON` | [MARIADB_REQUIRE_SSL] |
//! | Aurora MySQL | `require_secure_transport` | all | unknown | not found in the Aurora docs read |
//! | RDS for Db2 | `db2comm` | all | `TCPIP` (not SSL-only) | [DB2_SSL] |
//! | RDS for SQL Server | `rds.tls10`, `rds.tls11` | minor after 16.00.4120.1, 15.00.4365.2, 14.00.3465.1, 13.00.6435.1, 12.00.6449.1 | `disabled` | [SQLSERVER_CIPHERS] |
//! | RDS for SQL Server | `rds.tls10`, `rds.tls11` | 12–16 up to those minors, and < 12 | `enabled` | [SQLSERVER_CIPHERS] |
//! | RDS for MySQL | `tls_version` | >= 8.0.28 | `TLSv1.2,TLSv1.3` | [MYSQL_TLS_PROTOCOLS] |
//! | RDS/Aurora PostgreSQL | `ssl_min_protocol_version` | all | unknown | RDS documents TLS 1.1 support; its default is not documented |
//!
//! Oracle's `NATIVE_NETWORK_ENCRYPTION` option setting `SQLNET.ENCRYPTION_SERVER` defaults to
//! `REQUESTED` ([ORACLE_NNE]); its `SSL` option setting `SQLNET.SSL_VERSION` has no default for
//! new options (AWS requires setting it) and is treated as unknown when absent ([ORACLE_SSL]).
//!
//! [PG_CERT_ROTATION]: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/ssl-certificate-rotation-postgresql.html
//! [APG_CERT_ROTATION]: https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/ssl-certificate-rotation-aurora-postgresql.html
//! [SQLSERVER_CERT_ROTATION]: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/ssl-certificate-rotation-sqlserver.html
//! [MYSQL_REQUIRE_SSL]: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/mysql-ssl-connections.require-ssl.html
//! [MARIADB_REQUIRE_SSL]: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/mariadb-ssl-connections.require-ssl.html
//! [DB2_SSL]: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Db2.Concepts.SSL.html
//! [SQLSERVER_CIPHERS]: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/SQLServer.Ciphers.html
//! [MYSQL_TLS_PROTOCOLS]: https://dev.mysql.com/doc/refman/8.0/en/encrypted-connection-protocols-ciphers.html
//! [ORACLE_NNE]: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Oracle.Options.NNE.Options.html
//! [ORACLE_SSL]: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.Oracle.Options.SSL.html

use std::cmp::Ordering;
use std::ops::Bound::{self, Excluded, Included, Unbounded};

use rdsguard_model::ParameterGroup;

use crate::checks::common::EngineFamily;
use crate::checks::tls::param_groups::{Param, param};

const PG_CERT_ROTATION: &str = "Amazon RDS User Guide, \"Updating applications to connect to \
     PostgreSQL DB instances using new SSL/TLS certificates\": rds.force_ssl defaults to 0 \
     before PostgreSQL 15 and to 1 from PostgreSQL 15";
const APG_CERT_ROTATION: &str = "Amazon Aurora User Guide, \"Updating applications to connect \
     to Aurora PostgreSQL DB clusters using new SSL/TLS certificates\": rds.force_ssl defaults \
     to 0";
const SQLSERVER_CERT_ROTATION: &str = "Amazon RDS User Guide, \"Updating applications to \
     connect to Microsoft SQL Server DB instances using new SSL/TLS certificates\": \
     rds.force_ssl defaults to 0";
const MYSQL_REQUIRE_SSL: &str = "Amazon RDS User Guide, \"Requiring SSL/TLS for all \
     connections to a MySQL DB instance\": OFF for MySQL 8.4 and lower, ON for MySQL 9.7";
const MARIADB_REQUIRE_SSL: &str = "Amazon RDS User Guide, \"Requiring SSL/TLS for all \
     connections to a MariaDB DB instance\": supported from 10.5, OFF up to 11.4, ON from 11.8";
const DB2_SSL: &str = "Amazon RDS User Guide, \"Using SSL/TLS with an Amazon RDS for Db2 DB \
     instance\": SSL needs DB2COMM set to SSL (or TCPIP,SSL) in a custom parameter group";
const SQLSERVER_CIPHERS: &str = "Amazon RDS User Guide, \"Configuring SQL Server security \
     protocols and ciphers\": rds.tls10/rds.tls11 default to disabled for minor versions after \
     16.00.4120.1, 15.00.4365.2, 14.00.3465.1, 13.00.6435.1 and 12.00.6449.1, else enabled";
const MYSQL_TLS_PROTOCOLS: &str = "MySQL 8.0 Reference Manual, \"Encrypted Connection TLS \
     Protocols and Ciphers\": MySQL 8.0.28 and later (and 8.4) support only TLSv1.2 and \
     TLSv1.3";

/// Source of Oracle's NNE default, quoted in evidence.
pub const ORACLE_NNE: &str = "Amazon RDS User Guide, \"NATIVE_NETWORK_ENCRYPTION option \
     settings\": SQLNET.ENCRYPTION_SERVER defaults to REQUESTED";
/// Oracle NNE server encryption default when the option setting is not reported.
pub const NNE_ENCRYPTION_SERVER_DEFAULT: &str = "REQUESTED";

/// A parsed engine version: the leading numeric dot-separated components
/// (`15.00.4365.2.v1` → `[15, 0, 4365, 2]`, `8.0.mysql_aurora.3.05.2` → `[8, 0]`).
pub fn parse_version(version: &str) -> Vec<u32> {
    version
        .split('.')
        .map_while(|p| p.parse::<u32>().ok())
        .collect()
}

/// Compare versions component by component, missing components counting as 0.
pub fn cmp_version(a: &[u32], b: &[u32]) -> Ordering {
    let len = a.len().max(b.len());
    for i in 0..len {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        match x.cmp(&y) {
            Ordering::Equal => continue,
            other => return other,
        }
    }
    Ordering::Equal
}

fn in_range(v: &[u32], from: Bound<&[u32]>, to: Bound<&[u32]>) -> bool {
    let above = match from {
        Unbounded => true,
        Included(f) => cmp_version(v, f) != Ordering::Less,
        Excluded(f) => cmp_version(v, f) == Ordering::Greater,
    };
    let below = match to {
        Unbounded => true,
        Included(t) => cmp_version(v, t) != Ordering::Greater,
        Excluded(t) => cmp_version(v, t) == Ordering::Less,
    };
    above && below
}

/// What the engine does when a parameter is not set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultValue {
    Value(&'static str),
    /// The parameter does not exist or has no effect on these versions.
    Unsupported,
    /// Not documented: the checks report NOT_ASSESSED.
    Unknown,
}

pub struct EngineDefault {
    pub family: EngineFamily,
    pub parameter: &'static str,
    pub from: Bound<&'static [u32]>,
    pub to: Bound<&'static [u32]>,
    pub value: DefaultValue,
    pub source: &'static str,
}

const fn row(
    family: EngineFamily,
    parameter: &'static str,
    from: Bound<&'static [u32]>,
    to: Bound<&'static [u32]>,
    value: DefaultValue,
    source: &'static str,
) -> EngineDefault {
    EngineDefault {
        family,
        parameter,
        from,
        to,
        value,
        source,
    }
}

use DefaultValue::{Unknown, Unsupported, Value};
use EngineFamily as F;

/// The table documented at the top of this module. First matching row wins.
pub static ENGINE_DEFAULTS: &[EngineDefault] = &[
    row(
        F::Postgres,
        "rds.force_ssl",
        Unbounded,
        Excluded(&[15]),
        Value("0"),
        PG_CERT_ROTATION,
    ),
    row(
        F::Postgres,
        "rds.force_ssl",
        Included(&[15]),
        Unbounded,
        Value("1"),
        PG_CERT_ROTATION,
    ),
    row(
        F::AuroraPostgres,
        "rds.force_ssl",
        Unbounded,
        Excluded(&[17]),
        Value("0"),
        APG_CERT_ROTATION,
    ),
    row(
        F::AuroraPostgres,
        "rds.force_ssl",
        Included(&[17]),
        Unbounded,
        Unknown,
        "the Aurora PostgreSQL default (0) is documented on a page that predates Aurora \
         PostgreSQL 17; RDS for PostgreSQL changed its default to 1 at version 15",
    ),
    row(
        F::SqlServer,
        "rds.force_ssl",
        Unbounded,
        Unbounded,
        Value("0"),
        SQLSERVER_CERT_ROTATION,
    ),
    row(
        F::MySql,
        "require_secure_transport",
        Unbounded,
        Excluded(&[8, 5]),
        Value("OFF"),
        MYSQL_REQUIRE_SSL,
    ),
    row(
        F::MySql,
        "require_secure_transport",
        Included(&[9, 7]),
        Unbounded,
        Value("ON"),
        MYSQL_REQUIRE_SSL,
    ),
    row(
        F::MariaDb,
        "require_secure_transport",
        Unbounded,
        Excluded(&[10, 5]),
        Unsupported,
        MARIADB_REQUIRE_SSL,
    ),
    row(
        F::MariaDb,
        "require_secure_transport",
        Included(&[10, 5]),
        Excluded(&[11, 5]),
        Value("OFF"),
        MARIADB_REQUIRE_SSL,
    ),
    row(
        F::MariaDb,
        "require_secure_transport",
        Included(&[11, 8]),
        Unbounded,
        Value("ON"),
        MARIADB_REQUIRE_SSL,
    ),
    row(
        F::Db2,
        "db2comm",
        Unbounded,
        Unbounded,
        Value("TCPIP"),
        DB2_SSL,
    ),
    // SQL Server TLS 1.0 / 1.1: disabled by default after these minor versions.
    row(
        F::SqlServer,
        "rds.tls10",
        Excluded(&[16, 0, 4120, 1]),
        Excluded(&[17]),
        Value("disabled"),
        SQLSERVER_CIPHERS,
    ),
    row(
        F::SqlServer,
        "rds.tls10",
        Excluded(&[15, 0, 4365, 2]),
        Excluded(&[16]),
        Value("disabled"),
        SQLSERVER_CIPHERS,
    ),
    row(
        F::SqlServer,
        "rds.tls10",
        Excluded(&[14, 0, 3465, 1]),
        Excluded(&[15]),
        Value("disabled"),
        SQLSERVER_CIPHERS,
    ),
    row(
        F::SqlServer,
        "rds.tls10",
        Excluded(&[13, 0, 6435, 1]),
        Excluded(&[14]),
        Value("disabled"),
        SQLSERVER_CIPHERS,
    ),
    row(
        F::SqlServer,
        "rds.tls10",
        Excluded(&[12, 0, 6449, 1]),
        Excluded(&[13]),
        Value("disabled"),
        SQLSERVER_CIPHERS,
    ),
    row(
        F::SqlServer,
        "rds.tls10",
        Unbounded,
        Excluded(&[17]),
        Value("enabled"),
        SQLSERVER_CIPHERS,
    ),
    row(
        F::SqlServer,
        "rds.tls11",
        Excluded(&[16, 0, 4120, 1]),
        Excluded(&[17]),
        Value("disabled"),
        SQLSERVER_CIPHERS,
    ),
    row(
        F::SqlServer,
        "rds.tls11",
        Excluded(&[15, 0, 4365, 2]),
        Excluded(&[16]),
        Value("disabled"),
        SQLSERVER_CIPHERS,
    ),
    row(
        F::SqlServer,
        "rds.tls11",
        Excluded(&[14, 0, 3465, 1]),
        Excluded(&[15]),
        Value("disabled"),
        SQLSERVER_CIPHERS,
    ),
    row(
        F::SqlServer,
        "rds.tls11",
        Excluded(&[13, 0, 6435, 1]),
        Excluded(&[14]),
        Value("disabled"),
        SQLSERVER_CIPHERS,
    ),
    row(
        F::SqlServer,
        "rds.tls11",
        Excluded(&[12, 0, 6449, 1]),
        Excluded(&[13]),
        Value("disabled"),
        SQLSERVER_CIPHERS,
    ),
    row(
        F::SqlServer,
        "rds.tls11",
        Unbounded,
        Excluded(&[17]),
        Value("enabled"),
        SQLSERVER_CIPHERS,
    ),
    row(
        F::MySql,
        "tls_version",
        Included(&[8, 0, 28]),
        Unbounded,
        Value("TLSv1.2,TLSv1.3"),
        MYSQL_TLS_PROTOCOLS,
    ),
];

/// The documented default of `parameter` for this engine version, with its source.
pub fn engine_default(
    family: EngineFamily,
    engine_version: &str,
    parameter: &str,
) -> (DefaultValue, &'static str) {
    let version = parse_version(engine_version);
    let found = ENGINE_DEFAULTS
        .iter()
        .filter(|r| r.family == family && r.parameter == parameter)
        .find(|r| {
            if version.is_empty() {
                matches!((r.from, r.to), (Unbounded, Unbounded))
            } else {
                in_range(&version, r.from, r.to)
            }
        });
    match found {
        Some(r) => (r.value, r.source),
        None => (Unknown, "no documented default for this engine version"),
    }
}

/// A parameter value with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved<'a> {
    pub value: &'a str,
    pub origin: Origin,
}

/// Where a resolved parameter value came from; displays as `parameter group` or
/// `engine default (<source>)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    ParameterGroup,
    EngineDefault(&'static str),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::ParameterGroup => f.write_str("parameter group"),
            Origin::EngineDefault(source) => write!(f, "engine default ({source})"),
        }
    }
}

/// Why a parameter value could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// The default is not documented: NOT_ASSESSED.
    Unknown(String),
    /// The parameter does not exist on this engine version: the setting cannot be enforced.
    Unsupported(String),
}

/// The effective value of a parameter: the group's value when reported, else the documented
/// engine default. Parameters unsupported on the engine version resolve to `Unsupported` even
/// if a group reports a value (the engine ignores it).
pub fn resolve<'a>(
    group: &'a ParameterGroup,
    family: EngineFamily,
    engine: &str,
    engine_version: &str,
    parameter: &str,
) -> Result<Resolved<'a>, Unresolved> {
    let (default, source) = engine_default(family, engine_version, parameter);
    if default == Unsupported {
        return Err(Unresolved::Unsupported(format!(
            "{parameter} is not supported by {engine} {engine_version} ({source})"
        )));
    }
    match param(group, parameter) {
        Param::Set(v) => Ok(Resolved {
            value: v,
            origin: Origin::ParameterGroup,
        }),
        Param::Empty | Param::NotReported => match default {
            Value(v) => Ok(Resolved {
                value: v,
                origin: Origin::EngineDefault(source),
            }),
            Unknown | Unsupported => Err(Unresolved::Unknown(format!(
                "{parameter} is not reported by parameter group {} and the default for {engine} \
                 {engine_version} is unknown ({source})",
                group.name
            ))),
        },
    }
}

/// Boolean parameters as RDS accepts them (`1`, `ON`, `true`), case-insensitive.
pub fn is_truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "on" | "true" | "yes"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_compare() {
        assert_eq!(parse_version("15.00.4365.2.v1"), vec![15, 0, 4365, 2]);
        assert_eq!(parse_version("8.0.mysql_aurora.3.05.2"), vec![8, 0]);
        assert_eq!(parse_version("16.3"), vec![16, 3]);
        assert!(parse_version("").is_empty());
        assert_eq!(cmp_version(&[15], &[15, 0, 0]), Ordering::Equal);
        assert_eq!(cmp_version(&[8, 4, 3], &[8, 5]), Ordering::Less);
    }

    #[test]
    fn postgres_force_ssl_default_changes_at_15() {
        assert_eq!(
            engine_default(F::Postgres, "14.9", "rds.force_ssl").0,
            Value("0")
        );
        assert_eq!(
            engine_default(F::Postgres, "15.2", "rds.force_ssl").0,
            Value("1")
        );
        assert_eq!(engine_default(F::Postgres, "", "rds.force_ssl").0, Unknown);
        assert_eq!(
            engine_default(F::AuroraPostgres, "16.1", "rds.force_ssl").0,
            Value("0")
        );
        assert_eq!(
            engine_default(F::AuroraPostgres, "17.4", "rds.force_ssl").0,
            Unknown
        );
    }

    #[test]
    fn mysql_and_mariadb_defaults() {
        let rst = "require_secure_transport";
        assert_eq!(engine_default(F::MySql, "8.4.3", rst).0, Value("OFF"));
        assert_eq!(engine_default(F::MySql, "9.1.0", rst).0, Unknown);
        assert_eq!(engine_default(F::MySql, "9.7.0", rst).0, Value("ON"));
        assert_eq!(engine_default(F::MariaDb, "10.4.30", rst).0, Unsupported);
        assert_eq!(engine_default(F::MariaDb, "11.4.3", rst).0, Value("OFF"));
        assert_eq!(engine_default(F::MariaDb, "11.8.1", rst).0, Value("ON"));
        assert_eq!(
            engine_default(F::AuroraMySql, "8.0.mysql_aurora.3.05.2", rst).0,
            Unknown
        );
    }

    #[test]
    fn sqlserver_tls10_default_depends_on_minor_version() {
        assert_eq!(
            engine_default(F::SqlServer, "15.00.4365.2.v1", "rds.tls10").0,
            Value("enabled")
        );
        assert_eq!(
            engine_default(F::SqlServer, "15.00.4375.4.v1", "rds.tls10").0,
            Value("disabled")
        );
        assert_eq!(
            engine_default(F::SqlServer, "11.00.7507.2.v1", "rds.tls11").0,
            Value("enabled")
        );
        assert_eq!(
            engine_default(F::SqlServer, "17.00.1000.1.v1", "rds.tls11").0,
            Unknown
        );
    }

    #[test]
    fn resolve_prefers_the_group_and_refuses_unsupported() {
        let mut g = ParameterGroup {
            name: "g".into(),
            ..Default::default()
        };
        let r = resolve(&g, F::Postgres, "postgres", "16.2", "rds.force_ssl").expect("default");
        assert_eq!(r.value, "1");
        assert!(r.origin.to_string().starts_with("engine default"));
        g.parameters.insert(
            "rds.force_ssl".into(),
            rdsguard_model::Parameter {
                value: Some("0".into()),
                ..Default::default()
            },
        );
        let r = resolve(&g, F::Postgres, "postgres", "16.2", "rds.force_ssl").expect("set");
        assert_eq!(
            (r.value, r.origin.to_string().as_str()),
            ("0", "parameter group")
        );
        assert!(matches!(
            resolve(
                &g,
                F::MariaDb,
                "mariadb",
                "10.4.1",
                "require_secure_transport"
            ),
            Err(Unresolved::Unsupported(_))
        ));
        assert!(matches!(
            resolve(
                &g,
                F::AuroraMySql,
                "aurora-mysql",
                "8.0.mysql_aurora.3.05.2",
                "require_secure_transport"
            ),
            Err(Unresolved::Unknown(_))
        ));
    }

    #[test]
    fn truthy_values() {
        for v in ["1", "ON", "on", " true "] {
            assert!(is_truthy(v));
        }
        for v in ["0", "OFF", "", "2"] {
            assert!(!is_truthy(v));
        }
    }
}
