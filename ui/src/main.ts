import { createApp } from "vue";
import { createPinia } from "pinia";
import ElementPlus from "element-plus";
import zhCn from "element-plus/es/locale/lang/zh-cn";
import "element-plus/dist/index.css";
import { Connection, Document, Odometer, Search, Setting, Stamp, Tickets, Upload, UserFilled, View, Warning } from "@element-plus/icons-vue";
import dayjs from "dayjs";
import "dayjs/locale/zh-cn";
import App from "./App.vue";
import { router } from "./router";
import { i18n } from "./i18n";
import "./style.css";

dayjs.locale("zh-cn");

const app = createApp(App);
// Only the icons the menu and pages use (registering all ~290 costs memory in the
// webview for nothing).
for (const [name, component] of Object.entries({ Connection, Document, Odometer, Search, Setting, Stamp, Tickets, Upload, UserFilled, View, Warning })) {
  app.component(name, component);
}
app.use(createPinia()).use(router).use(i18n).use(ElementPlus, { locale: zhCn });
app.mount("#app");
