// Typed commands. Argument and result types are generated from the Rust types
// (crates/hcp-app) into ./types — never written by hand.
import { getTransport } from "./client";
import type {
  AssignCasesArgs,
  CaseActionArgs,
  CaseChange,
  CaseCountArgs,
  CaseDetail,
  CaseFilter,
  CasePage,
  CaseSettings,
  CaseStateCount,
  OutboxSummary,
  PushReport,
  SetPolicyArgs,
  UserProfile,
  AddHallArgs,
  AddedHall,
  AppInfo,
  Dashboard,
  DashboardArgs,
  DemoLoaded,
  EvaluationDetail,
  EvaluationFilter,
  EvaluationPage,
  EvaluationQuery,
  EvaluationRef,
  FormOptions,
  HallSummary,
  QuarantineRow,
  SyncEvent,
  SyncResult,
  SyncStatus,
  Vocabulary,
} from "./types";

export { ApiError } from "./client";
export type * from "./types";

async function call<T>(command: string, args?: unknown): Promise<T> {
  return (await getTransport()).call<T>(command, args);
}

export const api = {
  appInfo: () => call<AppInfo>("app_info"),
  vocabulary: () => call<Vocabulary>("vocabulary"),
  listHalls: () => call<HallSummary[]>("list_halls"),
  addHall: (args: AddHallArgs) => call<AddedHall>("add_hall", args),
  removeHall: (hall_id: string) => call<boolean>("remove_hall", { hall_id }),
  syncNow: (halls: string[] = []) => call<SyncResult>("sync_now", { halls }),
  syncStatus: () => call<SyncStatus>("sync_status"),
  queryEvaluations: (q: EvaluationQuery) => call<EvaluationPage>("query_evaluations", q),
  countEvaluations: (f: EvaluationFilter) => call<number>("count_evaluations", f),
  evaluationDetail: (r: EvaluationRef) => call<EvaluationDetail>("evaluation_detail", r),
  quarantineList: () => call<QuarantineRow[]>("quarantine_list"),
  dashboard: (args: DashboardArgs) => call<Dashboard>("dashboard", args),
  formOptions: (args: DashboardArgs) => call<FormOptions>("form_options", args),
  loadDemo: () => call<DemoLoaded>("load_demo"),
  currentUser: () => call<UserProfile>("current_user"),
  setUser: (p: UserProfile) => call<UserProfile>("set_user", p),
  listCases: (f: CaseFilter) => call<CasePage>("list_cases", f),
  caseCounts: (a: CaseCountArgs) => call<CaseStateCount[]>("case_counts", a),
  caseDetail: (case_id: number) => call<CaseDetail>("case_detail", { case_id }),
  caseAction: (a: CaseActionArgs) => call<CaseChange>("case_action", a),
  assignCases: (a: AssignCasesArgs) => call<number>("assign_cases", a),
  pushNow: () => call<PushReport[]>("push_now"),
  outboxSummary: () => call<OutboxSummary[]>("outbox_summary"),
  caseSettings: () => call<CaseSettings>("case_settings"),
  setDeadlinePolicy: (a: SetPolicyArgs) => call<CaseSettings>("set_deadline_policy", a),
  importCalendar: (json: string) => call<number>("import_calendar", { json }),
};

/** Sync progress as it happens; returns the unsubscribe function. */
export async function onSyncEvent(cb: (e: SyncEvent) => void): Promise<() => void> {
  return (await getTransport()).listen((p) => cb(p as SyncEvent));
}
