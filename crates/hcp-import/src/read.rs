//! Reading a spreadsheet row by row, whatever it is: xlsx (streamed cell by cell,
//! so memory does not grow with the sheet), xls (the old binary format, at most
//! 65,536 rows), or CSV / tab-separated text in UTF-8 (with or without a BOM),
//! UTF-16 (Excel's 「Unicode 文本」) or GBK/GB18030 (what Excel on a Chinese Windows
//! saves).

use std::fs::File;
use std::io::{BufReader, Read};
use std::ops::ControlFlow;
use std::path::Path;

use calamine::{DataRef, Reader, Xls, Xlsx};
use chrono::NaiveDateTime;

use crate::ImportError;

/// One cell as the file holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing.
    Empty,
    /// Text (CSV cells are always text).
    Text(String),
    /// A number (an Excel date stored without a date format is one too).
    Number(f64),
    /// A date/time cell (Excel serial with a date format), in the sheet's own clock.
    Date(NaiveDateTime),
    /// TRUE / FALSE.
    Bool(bool),
}

impl Cell {
    /// The cell as text, the way Excel would show it without formatting.
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Number(n) => {
                if n.fract() == 0.0 && n.abs() < 1e15 {
                    format!("{}", *n as i64)
                } else {
                    format!("{n}")
                }
            }
            Cell::Date(d) => d.format("%Y-%m-%d %H:%M:%S").to_string(),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        }
    }

    /// Whether there is nothing in it but spaces.
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }
}

/// One row: its number as the file's own viewer shows it (1-based), and cells.
#[derive(Debug, Clone)]
pub struct Row {
    /// 行号 (Excel's row number; for CSV the record's number).
    pub no: u32,
    /// The cells, left to right.
    pub cells: Vec<Cell>,
}

/// The kind of file, from its first bytes (not its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Office Open XML workbook.
    Xlsx,
    /// Excel 97–2003 workbook.
    Xls,
    /// Delimited text.
    Csv,
}

impl Format {
    /// How the summary names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Xlsx => "xlsx",
            Format::Xls => "xls",
            Format::Csv => "csv",
        }
    }
}

/// How a text file is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// UTF-8, `bom` whether it starts with one.
    Utf8 {
        /// Starts with EF BB BF.
        bom: bool,
    },
    /// UTF-16 little endian with a BOM.
    Utf16Le,
    /// UTF-16 big endian with a BOM.
    Utf16Be,
    /// GBK / GB18030.
    Gb18030,
}

impl TextEncoding {
    /// How the preview names it.
    pub fn label(self) -> &'static str {
        match self {
            TextEncoding::Utf8 { bom: true } => "UTF-8（带 BOM）",
            TextEncoding::Utf8 { bom: false } => "UTF-8",
            TextEncoding::Utf16Le | TextEncoding::Utf16Be => "UTF-16",
            TextEncoding::Gb18030 => "GBK",
        }
    }
}

/// A file opened for reading: its kind, and for text its encoding and delimiter.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file.
    pub path: std::path::PathBuf,
    /// Its kind.
    pub format: Format,
    /// Text only.
    pub encoding: Option<TextEncoding>,
    /// Text only.
    pub delimiter: u8,
    /// Its size in bytes.
    pub size: u64,
}

/// Largest file read (a year of a big city is ≈ 100 MB as xlsx).
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// Most columns a row may have: anything wider is not an evaluation export.
pub const MAX_COLUMNS: usize = 256;
/// Longest cell kept (a comment is at most 2,000 characters; the rest is noise).
pub const MAX_CELL_CHARS: usize = 8_000;

impl Source {
    /// Looks at the file's first bytes to decide how to read it.
    pub fn open(path: &Path) -> Result<Self, ImportError> {
        let io = |e: std::io::Error| ImportError::Io(path.display().to_string(), e.to_string());
        let meta = std::fs::metadata(path).map_err(io)?;
        if !meta.is_file() {
            return Err(ImportError::Unreadable("不是一个文件".into()));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(ImportError::Unreadable(format!(
                "文件有 {} MB，超过上限 {} MB",
                meta.len() / 1024 / 1024,
                MAX_FILE_BYTES / 1024 / 1024
            )));
        }
        let mut head = vec![0u8; 64 * 1024];
        let mut f = File::open(path).map_err(io)?;
        let n = read_up_to(&mut f, &mut head).map_err(io)?;
        head.truncate(n);
        let (format, encoding, delimiter) = if head.starts_with(b"PK\x03\x04") {
            (Format::Xlsx, None, b',')
        } else if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
            (Format::Xls, None, b',')
        } else {
            let enc = sniff_encoding(&head);
            let text = decode_all(&head, enc);
            (Format::Csv, Some(enc), sniff_delimiter(&text))
        };
        Ok(Self {
            path: path.to_path_buf(),
            format,
            encoding,
            delimiter,
            size: meta.len(),
        })
    }

    /// The sheets of a workbook (one unnamed sheet for text).
    pub fn sheets(&self) -> Result<Vec<String>, ImportError> {
        match self.format {
            Format::Csv => Ok(vec![String::new()]),
            Format::Xlsx => Ok(self.xlsx()?.sheet_names()),
            Format::Xls => Ok(self.xls()?.sheet_names()),
        }
    }

    fn xlsx(&self) -> Result<Xlsx<BufReader<File>>, ImportError> {
        let f = File::open(&self.path)
            .map_err(|e| ImportError::Io(self.path.display().to_string(), e.to_string()))?;
        Xlsx::new(BufReader::new(f)).map_err(|e| ImportError::Unreadable(format!("xlsx：{e}")))
    }

    fn xls(&self) -> Result<Xls<BufReader<File>>, ImportError> {
        let f = File::open(&self.path)
            .map_err(|e| ImportError::Io(self.path.display().to_string(), e.to_string()))?;
        Xls::new(BufReader::new(f)).map_err(|e| ImportError::Unreadable(format!("xls：{e}")))
    }

    /// Calls `f` with every row that has a cell, in order, and how far the read
    /// is (0‥1), until `f` breaks.
    pub fn for_each_row(
        &self,
        sheet: &str,
        mut f: impl FnMut(Row, f64) -> Result<ControlFlow<()>, ImportError>,
    ) -> Result<(), ImportError> {
        match self.format {
            Format::Csv => self.csv_rows(&mut f),
            Format::Xlsx => {
                let mut wb = self.xlsx()?;
                let mut cells = wb
                    .worksheet_cells_reader(sheet)
                    .map_err(|e| ImportError::Unreadable(format!("工作表 “{sheet}”：{e}")))?;
                let total = f64::from(cells.dimensions().end.0.max(1));
                let mut current: Option<Row> = None;
                loop {
                    let next = cells
                        .next_cell()
                        .map_err(|e| ImportError::Unreadable(format!("工作表 “{sheet}”：{e}")))?;
                    let Some(cell) = next else { break };
                    let (r, c) = cell.get_position();
                    let value = from_calamine(cell.get_value());
                    if current.as_ref().is_some_and(|row| row.no != r + 1) {
                        let row = current.take().expect("checked");
                        let at = f64::from(row.no) / total;
                        if f(row, at.min(1.0))?.is_break() {
                            return Ok(());
                        }
                    }
                    let row = current.get_or_insert_with(|| Row {
                        no: r + 1,
                        cells: vec![],
                    });
                    let c = c as usize;
                    if c < MAX_COLUMNS && value != Cell::Empty {
                        if row.cells.len() <= c {
                            row.cells.resize(c + 1, Cell::Empty);
                        }
                        row.cells[c] = value;
                    }
                }
                if let Some(row) = current {
                    let _ = f(row, 1.0)?;
                }
                Ok(())
            }
            Format::Xls => {
                let mut wb = self.xls()?;
                let range = wb
                    .worksheet_range(sheet)
                    .map_err(|e| ImportError::Unreadable(format!("工作表 “{sheet}”：{e}")))?;
                let (r0, c0) = range.start().unwrap_or((0, 0));
                let total = range.height().max(1) as f64;
                for (i, cells) in range.rows().enumerate() {
                    let mut row = Row {
                        no: r0 + i as u32 + 1,
                        cells: vec![Cell::Empty; c0 as usize],
                    };
                    row.cells.extend(
                        cells
                            .iter()
                            .take(MAX_COLUMNS)
                            .map(|d| from_calamine(&data_ref(d))),
                    );
                    if row.cells.iter().all(Cell::is_blank) {
                        continue;
                    }
                    if f(row, (i + 1) as f64 / total)?.is_break() {
                        return Ok(());
                    }
                }
                Ok(())
            }
        }
    }

    fn csv_rows(
        &self,
        f: &mut impl FnMut(Row, f64) -> Result<ControlFlow<()>, ImportError>,
    ) -> Result<(), ImportError> {
        let file = File::open(&self.path)
            .map_err(|e| ImportError::Io(self.path.display().to_string(), e.to_string()))?;
        let counted = Counted {
            inner: BufReader::with_capacity(256 * 1024, file),
            n: std::rc::Rc::new(std::cell::Cell::new(0)),
        };
        let read_so_far = counted.n.clone();
        let enc = self.encoding.unwrap_or(TextEncoding::Utf8 { bom: false });
        let decoded = Decoding::new(counted, enc);
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .buffer_capacity(256 * 1024)
            .from_reader(decoded);
        let mut rec = csv::StringRecord::new();
        let mut no = 0u32;
        let size = self.size.max(1) as f64;
        loop {
            match rdr.read_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    return Err(ImportError::Unreadable(format!(
                        "第 {} 行之后的内容无法读取：{e}",
                        no
                    )));
                }
            }
            no += 1;
            let cells: Vec<Cell> = rec
                .iter()
                .take(MAX_COLUMNS)
                .map(|s| {
                    if s.is_empty() {
                        Cell::Empty
                    } else {
                        Cell::Text(cap(s))
                    }
                })
                .collect();
            if cells.iter().all(Cell::is_blank) {
                continue;
            }
            let at = read_so_far.get() as f64 / size;
            if f(Row { no, cells }, at.min(1.0))?.is_break() {
                break;
            }
        }
        Ok(())
    }
}

fn cap(s: &str) -> String {
    if s.len() > MAX_CELL_CHARS {
        s.chars().take(MAX_CELL_CHARS).collect()
    } else {
        s.to_owned()
    }
}

fn data_ref(d: &calamine::Data) -> DataRef<'_> {
    use calamine::Data;
    match d {
        Data::Int(i) => DataRef::Int(*i),
        Data::Float(x) => DataRef::Float(*x),
        Data::String(s) => DataRef::SharedString(s),
        Data::Bool(b) => DataRef::Bool(*b),
        Data::DateTime(x) => DataRef::DateTime(*x),
        Data::DateTimeIso(s) => DataRef::DateTimeIso(s.clone()),
        Data::DurationIso(s) => DataRef::DurationIso(s.clone()),
        Data::Error(e) => DataRef::Error(e.clone()),
        Data::Empty => DataRef::Empty,
    }
}

fn from_calamine(d: &DataRef<'_>) -> Cell {
    match d {
        DataRef::Int(i) => Cell::Number(*i as f64),
        DataRef::Float(x) => Cell::Number(*x),
        DataRef::String(s) => Cell::Text(cap(s)),
        DataRef::SharedString(s) => Cell::Text(cap(s)),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(x) => {
            if x.is_datetime() {
                x.as_datetime()
                    .map(Cell::Date)
                    .unwrap_or(Cell::Number(x.as_f64()))
            } else {
                Cell::Number(x.as_f64())
            }
        }
        DataRef::DateTimeIso(s) => Cell::Text(cap(s)),
        DataRef::DurationIso(s) => Cell::Text(cap(s)),
        DataRef::Error(_) | DataRef::Empty => Cell::Empty,
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// UTF-8 when the start is valid UTF-8 (a character cut at the end of the sample
/// is fine), a BOM when there is one, GB18030 otherwise.
pub fn sniff_encoding(head: &[u8]) -> TextEncoding {
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return TextEncoding::Utf8 { bom: true };
    }
    if head.starts_with(&[0xFF, 0xFE]) {
        return TextEncoding::Utf16Le;
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return TextEncoding::Utf16Be;
    }
    match std::str::from_utf8(head) {
        Ok(_) => TextEncoding::Utf8 { bom: false },
        Err(e) if e.error_len().is_none() => TextEncoding::Utf8 { bom: false },
        Err(_) => TextEncoding::Gb18030,
    }
}

fn encoding_of(enc: TextEncoding) -> &'static encoding_rs::Encoding {
    match enc {
        TextEncoding::Utf8 { .. } => encoding_rs::UTF_8,
        TextEncoding::Utf16Le => encoding_rs::UTF_16LE,
        TextEncoding::Utf16Be => encoding_rs::UTF_16BE,
        TextEncoding::Gb18030 => encoding_rs::GB18030,
    }
}

fn decode_all(bytes: &[u8], enc: TextEncoding) -> String {
    let (text, _, _) = encoding_of(enc).decode(bytes);
    text.into_owned()
}

/// The delimiter the first lines use most: comma, tab or semicolon.
pub fn sniff_delimiter(text: &str) -> u8 {
    let sample: String = text.lines().take(40).collect::<Vec<_>>().join("\n");
    [b',', b'\t', b';']
        .into_iter()
        .max_by_key(|d| sample.matches(*d as char).count())
        .unwrap_or(b',')
}

/// Counts the bytes read through it, for the progress bar.
struct Counted<R> {
    inner: R,
    n: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.set(self.n.get() + k as u64);
        Ok(k)
    }
}

/// Decodes a byte stream into UTF-8 as it is read (the BOM is dropped; a byte
/// sequence that is not valid in the encoding becomes U+FFFD, so one bad byte
/// spoils one cell, not the file).
struct Decoding<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    start: usize,
    end: usize,
    output: Vec<u8>,
    out_pos: usize,
    eof: bool,
}

impl<R: Read> Decoding<R> {
    fn new(inner: R, enc: TextEncoding) -> Self {
        Self {
            inner,
            // Removes a BOM of its own encoding (and of UTF-8/16 generally).
            decoder: encoding_of(enc).new_decoder(),
            input: vec![0; 64 * 1024],
            start: 0,
            end: 0,
            output: Vec::with_capacity(256 * 1024),
            out_pos: 0,
            eof: false,
        }
    }
}

impl<R: Read> Read for Decoding<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.out_pos < self.output.len() {
                let n = buf.len().min(self.output.len() - self.out_pos);
                buf[..n].copy_from_slice(&self.output[self.out_pos..self.out_pos + n]);
                self.out_pos += n;
                return Ok(n);
            }
            if self.eof && self.start == self.end {
                return Ok(0);
            }
            if self.start == self.end && !self.eof {
                let k = self.inner.read(&mut self.input)?;
                self.start = 0;
                self.end = k;
                if k == 0 {
                    self.eof = true;
                }
            }
            let mut text = String::with_capacity(
                self.decoder
                    .max_utf8_buffer_length(self.end - self.start)
                    .unwrap_or(256 * 1024)
                    .max(16),
            );
            let (_, read, _) = self.decoder.decode_to_string(
                &self.input[self.start..self.end],
                &mut text,
                self.eof,
            );
            self.start += read;
            self.output = text.into_bytes();
            self.out_pos = 0;
            if self.eof && self.output.is_empty() {
                self.start = self.end;
                return Ok(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_told_apart() {
        assert_eq!(
            sniff_encoding("评价时间,评价等级".as_bytes()),
            TextEncoding::Utf8 { bom: false }
        );
        let (gbk, _, _) = encoding_rs::GBK.encode("评价时间,评价等级");
        assert_eq!(sniff_encoding(&gbk), TextEncoding::Gb18030);
        // A character cut by the end of the sample does not make it GBK.
        let utf8 = "评价时间".as_bytes();
        assert_eq!(
            sniff_encoding(&utf8[..utf8.len() - 1]),
            TextEncoding::Utf8 { bom: false }
        );
    }

    #[test]
    fn decoding_in_small_reads_gives_the_whole_text() {
        let text = "评价时间,评价等级\n2026-10-12 09:31,非常满意\n".repeat(5000);
        let (gbk, _, _) = encoding_rs::GBK.encode(&text);
        let mut d = Decoding::new(&gbk[..], TextEncoding::Gb18030);
        let mut out = String::new();
        d.read_to_string(&mut out).unwrap();
        assert_eq!(out, text);
    }

    #[test]
    fn delimiters_are_sniffed() {
        assert_eq!(sniff_delimiter("a\tb\tc\n1\t2\t3"), b'\t');
        assert_eq!(sniff_delimiter("a,b,c\n1,2,3"), b',');
    }
}
