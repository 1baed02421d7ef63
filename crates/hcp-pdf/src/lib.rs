//! The monthly report as an official-looking A4 PDF: typst (as a library) lays out
//! `assets/report/monthly.typ` with the report model as JSON, the shipped Noto Sans SC
//! fonts, and the daily chart drawn by plotters as SVG (embedded as vectors, so
//! every figure stays text). Also renders page images for the in-app preview.

use std::sync::OnceLock;

use hcp_report::MonthlyReport;
use plotters::prelude::*;
use typst::foundations::{Bytes, Dict, IntoValue};
use typst_as_lib::TypstEngine;
use typst_as_lib::typst_kit_options::TypstKitFontOptions;
use typst_layout::PagedDocument;

static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC-Regular.ttf");
static BOLD: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC-Bold.ttf");
static TEMPLATE: &str = include_str!("../../../assets/report/monthly.typ");
static OFFICIAL: &str = include_str!("../../../assets/report/official.typ");
// The 公文's faces (GB/T 9704: 仿宋 body, 小标宋 title, 楷体 second-level headings),
// Fandol from TeX Live (GPL with the font exception: embedding is free), subset.
static FANG: &[u8] = include_bytes!("../../../assets/fonts/FandolFang-Regular.otf");
static SONG_BOLD: &[u8] = include_bytes!("../../../assets/fonts/FandolSong-Bold.otf");
static KAI: &[u8] = include_bytes!("../../../assets/fonts/FandolKai-Regular.otf");

/// Which document: the 公文 an office issues, or the data brief for the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// 数据简报: tables and the chart in one flow, for reading on screen.
    #[default]
    Brief,
    /// 公文 (GB/T 9704-2012): 版头, 正文, 附件, 版记 — what issuing stores.
    Official,
}

impl Layout {
    /// `brief` or `official`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "brief" => Some(Self::Brief),
            "official" => Some(Self::Official),
            _ => None,
        }
    }
}

/// Why a document could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// Layout failed (a template or data problem).
    #[error("通报排版失败：{0}")]
    Layout(String),
    /// PDF export failed.
    #[error("无法生成 PDF：{0}")]
    Export(String),
}

type Engine = TypstEngine<typst_as_lib::TypstTemplateMainFile>;

fn engine(layout: Layout) -> &'static Engine {
    static BRIEF: OnceLock<Engine> = OnceLock::new();
    static OFFICIAL_ENGINE: OnceLock<Engine> = OnceLock::new();
    let build = |template: &'static str| {
        TypstEngine::builder()
            .main_file(template)
            .fonts([REGULAR, BOLD, FANG, SONG_BOLD, KAI])
            // System CJK fonts as a fallback for characters the subsets lack.
            .search_fonts_with(TypstKitFontOptions::default().include_system_fonts(true))
            .build()
    };
    match layout {
        Layout::Brief => BRIEF.get_or_init(|| build(TEMPLATE)),
        Layout::Official => OFFICIAL_ENGINE.get_or_init(|| build(OFFICIAL)),
    }
}

fn register_chart_font() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let _ = plotters::style::register_font("Noto Sans SC", FontStyle::Normal, REGULAR);
    });
}

/// 每日差评数 as an SVG bar chart (labels as text in Noto Sans SC).
pub fn daily_chart_svg(r: &MonthlyReport) -> String {
    register_chart_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 300)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let days = r.daily_bad.len().max(1) as u32;
        let max = r.daily_bad.iter().map(|d| d.1).max().unwrap_or(0).max(1);
        let font = ("Noto Sans SC", 14).into_font();
        let chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(40)
            .build_cartesian_2d((1u32..days).into_segmented(), 0i64..(max + max / 5 + 1));
        if let Ok(mut chart) = chart {
            let _ = chart
                .configure_mesh()
                .disable_x_mesh()
                .x_desc("日")
                .y_desc("差评数")
                .label_style(font.clone())
                .axis_desc_style(font.clone())
                .draw();
            let _ = chart.draw_series(
                Histogram::vertical(&chart)
                    .style(RGBColor(192, 57, 43).filled())
                    .margin(2)
                    .data(
                        // A day without a bad rating draws no bar (a zero-height
                        // rectangle is invalid SVG to the PDF engine).
                        r.daily_bad
                            .iter()
                            .enumerate()
                            .filter(|(_, d)| d.1 > 0)
                            .map(|(i, d)| (i as u32 + 1, d.1)),
                    ),
            );
        }
        let _ = root.present();
    }
    svg
}

/// 各月差评数 of a quarterly or yearly report as an SVG line chart.
pub fn trend_chart_svg(r: &MonthlyReport) -> String {
    register_chart_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 300)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let n = r.trend.len().max(1) as i32;
        let max = r
            .trend
            .iter()
            .map(|t| t.metrics.bad)
            .max()
            .unwrap_or(0)
            .max(1);
        let font = ("Noto Sans SC", 14).into_font();
        let labels: Vec<String> = r.trend.iter().map(|t| t.label.clone()).collect();
        let chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(0..n + 1, 0i64..(max + max / 5 + 1));
        if let Ok(mut chart) = chart {
            let _ = chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(n as usize + 2)
                .x_label_formatter(&|i| {
                    usize::try_from(*i - 1)
                        .ok()
                        .and_then(|i| labels.get(i).cloned())
                        .unwrap_or_default()
                })
                .y_desc("差评数")
                .label_style(font.clone())
                .axis_desc_style(font.clone())
                .draw();
            let color = RGBColor(192, 57, 43);
            let points: Vec<(i32, i64)> = r
                .trend
                .iter()
                .enumerate()
                .map(|(i, t)| (i as i32 + 1, t.metrics.bad))
                .collect();
            let _ = chart.draw_series(LineSeries::new(points.clone(), color.stroke_width(2)));
            let _ = chart.draw_series(points.iter().map(|p| Circle::new(*p, 4, color.filled())));
        }
        let _ = root.present();
    }
    svg
}

fn inputs(r: &MonthlyReport) -> Result<Dict, PdfError> {
    let json = serde_json::to_string(r).map_err(|e| PdfError::Layout(e.to_string()))?;
    let mut d = Dict::new();
    d.insert("data".into(), json.into_value());
    let chart = if r.trend.is_empty() {
        daily_chart_svg(r)
    } else {
        trend_chart_svg(r)
    };
    d.insert("chart".into(), Bytes::new(chart.into_bytes()).into_value());
    Ok(d)
}

fn compile(r: &MonthlyReport, layout: Layout) -> Result<PagedDocument, PdfError> {
    engine(layout)
        .compile_with_input(inputs(r)?)
        .output
        .map_err(|e| PdfError::Layout(e.to_string()))
}

/// The report as PDF bytes, as the data brief.
pub fn to_pdf(r: &MonthlyReport) -> Result<Vec<u8>, PdfError> {
    to_pdf_as(r, Layout::Brief)
}

/// The report as PDF bytes in a layout.
pub fn to_pdf_as(r: &MonthlyReport, layout: Layout) -> Result<Vec<u8>, PdfError> {
    let doc = compile(r, layout)?;
    typst_pdf::pdf(&doc, &typst_pdf::PdfOptions::default())
        .map_err(|e| PdfError::Export(format!("{e:?}")))
}

/// The report's pages as PNG images (`pixel_per_pt` 1.5 ≈ 108 dpi) for the preview.
pub fn to_page_images(r: &MonthlyReport, pixel_per_pt: f32) -> Result<Vec<Vec<u8>>, PdfError> {
    Ok(to_preview_pages(r, Layout::Brief, pixel_per_pt)?
        .into_iter()
        .map(|p| p.0)
        .collect())
}

/// The report's pages for the preview: each as a PNG image and as its text (the
/// text runs in reading order, one per line), for screen readers and search.
pub fn to_preview_pages(
    r: &MonthlyReport,
    layout: Layout,
    pixel_per_pt: f32,
) -> Result<Vec<(Vec<u8>, String)>, PdfError> {
    let doc = compile(r, layout)?;
    doc.pages()
        .iter()
        .map(|p| {
            let opts = typst_render::RenderOptions {
                pixel_per_pt: typst_utils::Scalar::new(f64::from(pixel_per_pt)),
                ..Default::default()
            };
            let png = typst_render::render(p, &opts)
                .encode_png()
                .map_err(|e| PdfError::Export(e.to_string()))?;
            let mut text = String::new();
            frame_text(&p.frame, &mut text);
            Ok((png, text))
        })
        .collect()
}

fn frame_text(frame: &typst::layout::Frame, out: &mut String) {
    for (_, item) in frame.items() {
        match item {
            typst::layout::FrameItem::Group(g) => frame_text(&g.frame, out),
            typst::layout::FrameItem::Text(t) => {
                out.push_str(&t.text);
                out.push('\n');
            }
            _ => {}
        }
    }
}

/// A line chart as SVG (labels as text in Noto Sans SC): `points` are (x, y) in
/// order; axes start at zero.
pub fn line_chart_svg(title: &str, x_desc: &str, y_desc: &str, points: &[(f64, f64)]) -> String {
    register_chart_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 360)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let x_max = points.iter().map(|p| p.0).fold(1.0, f64::max);
        let y_max = points.iter().map(|p| p.1).fold(1.0, f64::max) * 1.15;
        let font = ("Noto Sans SC", 14).into_font();
        let chart = ChartBuilder::on(&root)
            .caption(title, ("Noto Sans SC", 18).into_font())
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..x_max, 0f64..y_max);
        if let Ok(mut chart) = chart {
            let _ = chart
                .configure_mesh()
                .x_desc(x_desc)
                .y_desc(y_desc)
                .label_style(font.clone())
                .axis_desc_style(font.clone())
                .y_label_formatter(&|v| format!("{v:.0}"))
                .draw();
            let color = RGBColor(41, 98, 255);
            let _ = chart.draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ));
            let _ = chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, color.filled())));
        }
        let _ = root.present();
    }
    svg
}
