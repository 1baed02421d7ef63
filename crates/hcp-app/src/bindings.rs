//! The TypeScript twins of the command types, generated into `ui/src/api/types/`
//! and never edited by hand. `HCP_UPDATE_TS=1 cargo test -p hcp-app bindings`
//! rewrites them; without it the test fails when a committed file is stale.

use std::path::Path;

use ts_rs::{Config, TS};

use crate::AppError;
use crate::types::*;

/// (file name, contents) of every generated file, sorted by name.
pub fn ts_bindings() -> Result<Vec<(String, String)>, String> {
    // Counts fit easily in a JS number; `bigint` would break JSON.parse.
    let cfg = Config::new().with_large_int("number");
    let mut out: Vec<(String, String)> = vec![];
    macro_rules! add {
        ($($t:ty),* $(,)?) => {$(
            let name = <$t as TS>::output_path()
                .ok_or_else(|| format!("{} has no export path", stringify!($t)))?
                .display()
                .to_string();
            let text = <$t as TS>::export_to_string(&cfg).map_err(|e| e.to_string())?;
            out.push((name, text));
        )*};
    }
    add!(
        AppError,
        crate::ErrorCode,
        TemplateArgs,
        AppInfo,
        HallSummary,
        AddHallArgs,
        AddedHall,
        HallIdArgs,
        SyncArgs,
        HallProgress,
        SyncStatus,
        SyncResult,
        EvaluationQuery,
        EvaluationPage,
        EvaluationRef,
        EvaluationDetail,
        DashboardArgs,
        RateView,
        Dashboard,
        Todo,
        FormOptions,
        CodeName,
        Vocabulary,
        LevelWord,
        CaseTabView,
        AlertRuleView,
        DemoLoaded,
        hcp_sync::SyncEvent,
        hcp_sync::HallReport,
        hcp_store::HallRecord,
        hcp_store::SyncState,
        hcp_store::HallCounts,
        hcp_store::PageOutcome,
        hcp_store::QuarantineRow,
        hcp_store::EvaluationFilter,
        hcp_store::EvaluationListRow,
        hcp_store::PageKey,
        hcp_store::SpanCounts,
        hcp_store::DayCount,
        hcp_store::FollowUp,
        hcp_store::EvaluationVersion,
        UserProfile,
        hcp_core::Role,
        hcp_core::Capability,
        CaseIdArgs,
        CaseCountArgs,
        CaseActionInput,
        CaseActionArgs,
        AssignCasesArgs,
        DeadlinePolicyView,
        HallPolicy,
        CaseSettings,
        SetPolicyArgs,
        ReportPolicyArgs,
        ImportCalendarArgs,
        hcp_sync::PushReport,
        hcp_store::CaseListRow,
        hcp_store::CaseFilter,
        hcp_store::CasePage,
        hcp_store::CaseStateCount,
        hcp_store::CaseEvent,
        hcp_store::OutboxRow,
        hcp_store::CaseDeadline,
        hcp_store::CaseDetail,
        hcp_store::AllowedAction,
        hcp_store::CaseChange,
        hcp_store::OutboxSummary,
        hcp_store::EvaluationRow,
        VisitIdArgs,
        VisitListArgs,
        NewVisitArgs,
        VisitAnswerArgs,
        VisitFieldsArgs,
        VisitPhotoArgs,
        VisitPhotoRefArgs,
        VisitReviewArgs,
        FileData,
        ImportVisitArgs,
        PhotoArgs,
        TrustKeyArgs,
        RevokeKeyArgs,
        TaskPackageArgs,
        ImportedFile,
        ExportEvaluationsArgs,
        SetTypicalArgs,
        TypicalArgs,
        hcp_store::TypicalCase,
        hcp_store::TaskHall,
        hcp_store::VisitTaskRow,
        hcp_store::TaskImport,
        hcp_store::ReviewImport,
        TemplateView,
        TemplateSection,
        hcp_store::VisitFields,
        hcp_store::VisitPhoto,
        hcp_store::VisitItemView,
        hcp_store::VisitRow,
        hcp_store::VisitDetail,
        hcp_store::KeyInfo,
        hcp_store::ImportOutcome,
        ReportArgs,
        ReportExportArgs,
        ReportIssueArgs,
        ReportPreview,
        hcp_store::IssuedReport,
        SaveFileArgs,
        OpenFileArgs,
        crate::imports::ImportInspectArgs,
        crate::imports::ImportStaged,
        crate::imports::ImportRunArgs,
        hcp_import::Inspection,
        hcp_import::PreviewRow,
        hcp_import::FieldInfo,
        hcp_import::Mapping,
        hcp_import::LevelScale,
        hcp_import::ImportOptions,
        hcp_import::ImportSummary,
        hcp_import::ImportProgress,
        hcp_import::ChannelCodeRow,
        hcp_store::ImportProfile,
        hcp_store::ImportRecord,
        HubConnectArgs,
        HubActionArgs,
        HubPeekArgs,
        crate::alerts::AlertsArgs,
        crate::alerts::AlertList,
        crate::alerts::DecideAlertArgs,
        crate::alerts::AlertDetailArgs,
        hcp_store::AlertDetail,
        hcp_store::AlertDay,
        hcp_store::AlertEvidence,
        hcp_store::AlertRow,
        hcp_store::AlertRecompute,
        hcp_sync::PeekedCertificate,
        HubStatus,
        HubRebuildArgs,
        hcp_core::office::Office,
        ReportPublishArgs,
        PublishedFiles,
        HubRebuildResult,
        HubExchange,
        hcp_store::HubLink,
        hcp_store::QueuedAction,
        hcp_store::HubVisitUpload,
    );
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    Ok(out)
}

/// Writes the bindings into `dir` (removing generated files that are no longer
/// produced) and an `index.ts` that re-exports them all.
pub fn write_bindings(dir: &Path) -> std::io::Result<()> {
    let files = ts_bindings().map_err(std::io::Error::other)?;
    std::fs::create_dir_all(dir)?;
    for entry in std::fs::read_dir(dir)? {
        let p = entry?.path();
        if p.extension().is_some_and(|e| e == "ts") {
            std::fs::remove_file(p)?;
        }
    }
    for (name, text) in &files {
        std::fs::write(dir.join(name), text)?;
    }
    std::fs::write(dir.join("index.ts"), index(&files))?;
    std::fs::write(dir.join("../commands.ts"), commands_ts())
}

/// `index.ts`: one `export type` line per generated file.
pub fn index(files: &[(String, String)]) -> String {
    let mut s =
        String::from("// Generated by hcp-app (crates/hcp-app/src/bindings.rs). Do not edit.\n");
    for (name, _) in files {
        let stem = name.trim_end_matches(".ts");
        s.push_str(&format!("export type {{ {stem} }} from \"./{stem}\";\n"));
    }
    s
}

/// `ui/src/api/commands.ts`: the `Commands` table and the typed `api` object, one
/// entry per command of the registry ([`crate::commands`]).
pub fn commands_ts() -> String {
    let specs = crate::command_specs();
    let mut types = std::collections::BTreeSet::new();
    for s in &specs {
        for t in s.args.iter().chain([&s.result]) {
            for word in t.split(|c: char| !c.is_ascii_alphanumeric() && c != '_') {
                if word.starts_with(|c: char| c.is_ascii_uppercase()) && word != "Array" {
                    types.insert(word.to_owned());
                }
            }
        }
    }
    let mut s = String::from(
        "// Generated by hcp-app from the command registry (crates/hcp-app/src/commands.rs).\n\
         // Do not edit: HCP_UPDATE_TS=1 cargo test -p hcp-app bindings rewrites it.\n\
         import { getTransport } from \"./client\";\n",
    );
    s.push_str(&format!(
        "import type {{ {} }} from \"./types\";\n\n",
        types.into_iter().collect::<Vec<_>>().join(", ")
    ));
    s.push_str("/** Every command: its argument (`null` when it takes none) and its result. */\n");
    s.push_str("export interface Commands {\n");
    for c in &specs {
        let args = c.args.as_deref().unwrap_or("null");
        s.push_str(&format!(
            "  /** {} */\n  {}: {{ args: {args}; result: {} }};\n",
            c.doc, c.name, c.result
        ));
    }
    s.push_str("}\n\n");
    s.push_str(
        "/** Calls a command through this window's transport (Tauri, or the browser bridge). */\n\
         export async function call<K extends keyof Commands>(command: K, args: Commands[K][\"args\"]): Promise<Commands[K][\"result\"]> {\n  \
         return (await getTransport()).call<Commands[K][\"result\"]>(command, args);\n}\n\n",
    );
    s.push_str("/** One typed function per command. */\nexport const api = {\n");
    for c in &specs {
        let camel = camel_case(c.name);
        match &c.args {
            Some(t) => s.push_str(&format!(
                "  /** {} */\n  {camel}: (args: {t}) => call(\"{}\", args),\n",
                c.doc, c.name
            )),
            None => s.push_str(&format!(
                "  /** {} */\n  {camel}: () => call(\"{}\", null),\n",
                c.doc, c.name
            )),
        }
    }
    s.push_str("};\n");
    s
}

fn camel_case(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for ch in snake.chars() {
        if ch == '_' {
            upper = true;
        } else if upper {
            out.extend(ch.to_uppercase());
            upper = false;
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/api/types")
    }

    #[test]
    fn committed_typescript_bindings_are_fresh() {
        let dir = types_dir();
        if std::env::var("HCP_UPDATE_TS").is_ok_and(|v| v == "1") {
            write_bindings(&dir).unwrap();
        }
        let files = ts_bindings().unwrap();
        let mut stale = vec![];
        for (name, text) in &files {
            match std::fs::read_to_string(dir.join(name)) {
                Ok(on_disk) if &on_disk == text => {}
                _ => stale.push(name.clone()),
            }
        }
        match std::fs::read_to_string(dir.join("index.ts")) {
            Ok(on_disk) if on_disk == index(&files) => {}
            _ => stale.push("index.ts".into()),
        }
        match std::fs::read_to_string(dir.join("../commands.ts")) {
            Ok(on_disk) if on_disk == commands_ts() => {}
            _ => stale.push("../commands.ts".into()),
        }
        let expected: std::collections::BTreeSet<String> = files
            .iter()
            .map(|f| f.0.clone())
            .chain(["index.ts".to_string()])
            .collect();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if !expected.contains(&name) {
                stale.push(format!("{name} (no longer generated)"));
            }
        }
        assert!(
            stale.is_empty(),
            "ui/src/api/types is stale: {stale:?}\nrun: HCP_UPDATE_TS=1 cargo test -p hcp-app bindings"
        );
    }
}
