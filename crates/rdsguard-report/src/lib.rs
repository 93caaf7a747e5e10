//! Report renderers. Each format is a plain serializer of [`Report`] (the one finding model):
//!
//! | format | for | module |
//! |---|---|---|
//! | `table` | people at a terminal | [`table`] |
//! | `json` | scripts (stable schema, docs/schemas/report.schema.json) | here |
//! | `jsonl` | log pipelines: one finding per line | here |
//! | `csv` | spreadsheets | [`csv_format`] |
//! | `sarif` | code-scanning dashboards (SARIF 2.1.0) | [`sarif`] |
//! | `asff` | AWS Security Hub (BatchImportFindings) | [`asff`] |
//! | `ocsf` | Amazon Security Lake, SIEMs (OCSF 1.5.0) | [`ocsf`] |
//! | `junit` | CI test reports | [`junit`] |
//! | `markdown` | pull-request comments | [`markdown`] |
//! | `html` | one self-contained page to share | [`html`] |
//!
//! Compliance views ([`compliance`]) and drift between two reports ([`diff`]) are views of the
//! same model.

pub mod asff;
pub mod compliance;
pub mod csv_format;
pub mod diff;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod ocsf;
pub mod sarif;
pub mod table;
pub mod text;

use std::path::Path;

use rdsguard_findings::Report;

pub use compliance::Framework;
pub use table::{CheckRows, ResultKey, TableDigest, render_digest, render_table};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Csv,
    Sarif,
    Asff,
    Ocsf,
    Junit,
    Markdown,
    Html,
}

impl Format {
    pub const ALL: [Format; 10] = [
        Format::Table,
        Format::Json,
        Format::Jsonl,
        Format::Csv,
        Format::Sarif,
        Format::Asff,
        Format::Ocsf,
        Format::Junit,
        Format::Markdown,
        Format::Html,
    ];

    /// The name used by `--format` and by `-o NAME:FILE`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Sarif => "sarif",
            Format::Asff => "asff",
            Format::Ocsf => "ocsf",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
            Format::Html => "html",
        }
    }

    /// The format a file name implies. Compound extensions first: `x.asff.json` is ASFF,
    /// `x.ocsf.json` OCSF, `x.sarif.json` SARIF, plain `x.json` the report JSON.
    pub fn from_path(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        const BY_SUFFIX: [(&str, Format); 14] = [
            (".asff.json", Format::Asff),
            (".ocsf.json", Format::Ocsf),
            (".sarif.json", Format::Sarif),
            (".junit.xml", Format::Junit),
            (".sarif", Format::Sarif),
            (".json", Format::Json),
            (".jsonl", Format::Jsonl),
            (".ndjson", Format::Jsonl),
            (".csv", Format::Csv),
            (".xml", Format::Junit),
            (".md", Format::Markdown),
            (".markdown", Format::Markdown),
            (".html", Format::Html),
            (".htm", Format::Html),
        ];
        BY_SUFFIX
            .iter()
            .find(|(suffix, _)| name.ends_with(suffix))
            .map(|(_, f)| *f)
            .or_else(|| name.ends_with(".txt").then_some(Format::Table))
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        let alias = match lower.as_str() {
            "md" => "markdown",
            "ndjson" => "jsonl",
            "xml" => "junit",
            other => other,
        };
        Format::ALL
            .into_iter()
            .find(|f| f.name() == alias)
            .ok_or_else(|| {
                format!(
                    "unknown format `{s}` (expected {})",
                    Format::ALL.map(Format::name).join(", ")
                )
            })
    }
}

/// One `-o` output: a file (or `-`, standard output) and its format when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSpec {
    /// From a `FORMAT:` prefix, else from the file's extension; `None` when neither says.
    pub format: Option<Format>,
    pub path: std::path::PathBuf,
}

impl std::str::FromStr for OutputSpec {
    type Err = String;
    /// `FILE` (format from the extension), `FORMAT:FILE` (explicit, any file name), `-` or
    /// `FORMAT:-` (standard output).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some((prefix, path)) = s.split_once(':')
            && let Ok(format) = prefix.parse::<Format>()
        {
            if path.is_empty() {
                return Err(format!(
                    "`{s}`: no file name after `{prefix}:` (use `{prefix}:-` for standard output)"
                ));
            }
            return Ok(OutputSpec {
                format: Some(format),
                path: path.into(),
            });
        }
        if s.is_empty() {
            return Err("empty output file name".to_string());
        }
        let path = std::path::PathBuf::from(s);
        let format = if s == "-" {
            None
        } else {
            Format::from_path(&path)
        };
        Ok(OutputSpec { format, path })
    }
}

impl OutputSpec {
    /// `-`: standard output.
    pub fn is_stdout(&self) -> bool {
        self.path.as_os_str() == "-"
    }

    /// The format to write: the spec's own, else `fallback` (`--format`); standard output
    /// defaults to the table.
    pub fn resolve(&self, fallback: Option<Format>) -> Result<Format, String> {
        match self.format.or(fallback) {
            Some(f) => Ok(f),
            None if self.is_stdout() => Ok(Format::Table),
            None => Err(format!(
                "cannot tell the format of `{0}` from its extension (.json .jsonl .csv .sarif \
                 .asff.json .ocsf.json .xml .md .html .txt): write it as FORMAT:{0}, e.g. sarif:{0}, \
                 or pass --format",
                self.path.display()
            )),
        }
    }
}

/// Options of the renderers.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// ANSI colours (table only; only on a terminal, never with NO_COLOR).
    pub color: bool,
    /// Also list passing and not-applicable results, every resource of each check and whole
    /// messages (table).
    pub show_all: bool,
    /// Group results by this framework's controls: replaces the table and JSON outputs with
    /// the compliance view, and adds a section to Markdown and HTML.
    pub compliance: Option<Framework>,
}

/// The former name of [`RenderOptions`].
pub type TableOptions = RenderOptions;

/// Render a report in the given format.
pub fn render(report: &Report, format: Format, opts: &RenderOptions) -> String {
    match format {
        Format::Table => match &opts.compliance {
            Some(fw) => table::render_compliance(report, &compliance::view(report, fw), opts),
            None => render_table(report, opts),
        },
        Format::Json => match &opts.compliance {
            Some(fw) => compliance::render_json(&compliance::view(report, fw)),
            None => render_json(report),
        },
        Format::Jsonl => render_jsonl(report),
        Format::Csv => csv_format::render(report),
        Format::Sarif => sarif::render(report),
        Format::Asff => asff::render(report),
        Format::Ocsf => ocsf::render(report),
        Format::Junit => junit::render(report),
        Format::Markdown => markdown::render(report, opts.compliance.as_ref()),
        Format::Html => html::render(report, opts.compliance.as_ref()),
    }
}

/// Write a report in the given format to `out`: exactly [`render`]'s text. The JSON and JSON
/// Lines documents are written as they are serialized (a report of 100,000 databases is
/// ~10 GB of JSON, which would otherwise be held in memory whole); the other formats are
/// rendered first.
pub fn render_to(
    report: &Report,
    format: Format,
    opts: &RenderOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match (format, &opts.compliance) {
        (Format::Json, None) => {
            serde_json::to_writer_pretty(&mut *out, report).map_err(std::io::Error::other)?;
            out.write_all(b"\n")
        }
        (Format::Jsonl, _) => {
            for f in &report.findings {
                // As `render_jsonl`: a finding that cannot be serialized is skipped.
                if let Ok(line) = serde_json::to_vec(f) {
                    out.write_all(&line)?;
                    out.write_all(b"\n")?;
                }
            }
            Ok(())
        }
        _ => out.write_all(render(report, format, opts).as_bytes()),
    }
}

/// The stable JSON document (pretty-printed, trailing newline).
pub fn render_json(report: &Report) -> String {
    pretty(report)
}

/// One finding per line (JSON Lines), in the report's order.
pub fn render_jsonl(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        // Serializing plain data cannot fail; skip rather than corrupt the stream regardless.
        if let Ok(line) = serde_json::to_string(f) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// Pretty JSON with a trailing newline.
pub(crate) fn pretty<T: serde::Serialize + ?Sized>(value: &T) -> String {
    // Serializing plain data structures cannot fail; fall back to an error object regardless.
    let mut s = serde_json::to_string_pretty(value)
        .unwrap_or_else(|e| format!("{{\"error\":\"cannot serialize: {e}\"}}"));
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_by_name_and_alias() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>().unwrap(), f);
        }
        assert_eq!("MD".parse::<Format>().unwrap(), Format::Markdown);
        assert!("pdf".parse::<Format>().unwrap_err().contains("sarif"));
    }

    #[test]
    fn output_format_inferred_from_extension() {
        let spec = |s: &str| s.parse::<OutputSpec>().unwrap().resolve(None);
        assert_eq!(spec("out/report.html"), Ok(Format::Html));
        assert_eq!(spec("findings.sarif"), Ok(Format::Sarif));
        assert_eq!(spec("findings.SARIF.json"), Ok(Format::Sarif));
        assert_eq!(spec("findings.asff.json"), Ok(Format::Asff));
        assert_eq!(spec("findings.ocsf.json"), Ok(Format::Ocsf));
        assert_eq!(spec("report.json"), Ok(Format::Json));
        assert_eq!(spec("f.jsonl"), Ok(Format::Jsonl));
        assert_eq!(spec("f.csv"), Ok(Format::Csv));
        assert_eq!(spec("junit.xml"), Ok(Format::Junit));
        assert_eq!(spec("pr.md"), Ok(Format::Markdown));
        assert_eq!(spec("summary.txt"), Ok(Format::Table));
        assert!(spec("report").unwrap_err().contains("FORMAT:report"));
    }

    #[test]
    fn explicit_prefix_then_extension_then_fallback() {
        let o: OutputSpec = "asff:findings.json".parse().unwrap();
        assert_eq!(
            (o.format, o.path.to_str()),
            (Some(Format::Asff), Some("findings.json"))
        );
        // A prefix that is not a format is part of the path (format from the extension).
        let o: OutputSpec = "c:report.html".parse().unwrap();
        assert_eq!(
            (o.format, o.path.to_str()),
            (Some(Format::Html), Some("c:report.html"))
        );
        assert!("sarif:".parse::<OutputSpec>().is_err());
        // The extension wins over --format; --format serves files without one.
        let o: OutputSpec = "out.sarif".parse().unwrap();
        assert_eq!(o.resolve(Some(Format::Json)), Ok(Format::Sarif));
        let o: OutputSpec = "report".parse().unwrap();
        assert_eq!(o.resolve(Some(Format::Json)), Ok(Format::Json));
    }

    #[test]
    fn dash_is_standard_output() {
        let o: OutputSpec = "-".parse().unwrap();
        assert!(o.is_stdout());
        assert_eq!(o.resolve(None), Ok(Format::Table));
        assert_eq!(o.resolve(Some(Format::Csv)), Ok(Format::Csv));
        let o: OutputSpec = "sarif:-".parse().unwrap();
        assert!(o.is_stdout());
        assert_eq!(o.resolve(Some(Format::Csv)), Ok(Format::Sarif));
    }
}
