import { createRouter, createWebHashHistory, type RouteRecordRaw } from "vue-router";
import AppLayout from "./layout/AppLayout.vue";

// Hash history: the same build works under tauri://localhost and http://127.0.0.1.
export const routes: RouteRecordRaw[] = [
  {
    path: "/",
    component: AppLayout,
    redirect: "/dashboard",
    children: [
      { path: "dashboard", name: "dashboard", component: () => import("./views/DashboardView.vue"), meta: { title: "menu.dashboard", icon: "Odometer", cap: "view_dashboard" } },
      { path: "evaluations", name: "evaluations", component: () => import("./views/EvaluationsView.vue"), meta: { title: "menu.evaluations", icon: "Search", cap: "view_ratings" } },
      { path: "cases", name: "cases", component: () => import("./views/CasesView.vue"), meta: { title: "menu.cases", icon: "Tickets", cap: "view_cases" } },
      { path: "cases/:id(\\d+)", name: "case", component: () => import("./views/CaseDetailView.vue"), meta: { title: "menu.cases", hidden: true } },
      { path: "appeals", name: "appeals", component: () => import("./views/CasesView.vue"), props: { appeals: true }, meta: { title: "menu.appeals", icon: "Stamp", cap: "view_appeals" } },
      { path: "alerts", name: "alerts", component: () => import("./views/AlertsView.vue"), meta: { title: "menu.alerts", icon: "Warning", cap: "view_alerts" } },
      { path: "visits", name: "visits", component: () => import("./views/VisitsView.vue"), meta: { title: "menu.visits", icon: "View", cap: "view_visits" } },
      { path: "visits/:id", name: "visit", component: () => import("./views/VisitFormView.vue"), meta: { title: "menu.visits", hidden: true } },
      { path: "reports", name: "reports", component: () => import("./views/ReportsView.vue"), meta: { title: "menu.reports", icon: "Document", cap: "view_reports" } },
      { path: "outbox", name: "outbox", component: () => import("./views/OutboxView.vue"), meta: { title: "menu.outbox", icon: "Upload" } },
      { path: "halls", name: "halls", component: () => import("./views/HallsView.vue"), meta: { title: "menu.halls", icon: "Connection", cap: "view_halls" } },
      { path: "settings", name: "settings", component: () => import("./views/SettingsView.vue"), meta: { title: "menu.settings", icon: "Setting" } },
    ],
  },
  { path: "/:pathMatch(.*)*", redirect: "/dashboard" },
];

export const router = createRouter({ history: createWebHashHistory(), routes });
