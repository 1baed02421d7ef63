// The parts of ECharts the app draws with, registered once. Imported on demand
// (`await import("../charts/echarts")`) so that ECharts loads with the first
// chart, not with the app; named imports keep the rest of the library out.
import { init, use } from "echarts/core";
import { BarChart } from "echarts/charts";
import { GridComponent, MarkAreaComponent, MarkLineComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

use([BarChart, GridComponent, TooltipComponent, MarkAreaComponent, MarkLineComponent, CanvasRenderer]);

export { init };
