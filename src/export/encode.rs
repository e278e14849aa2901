//! Rows into GraphML, CSV or NDJSON text, appended to a buffer the caller drains.

use std::fmt::Write;

use bytes::Bytes;
use uuid::Uuid;

use super::{Counts, DEVELOPER_FIELDS, Field, Format, REPOSITORY_FIELDS, Table, Type};
use crate::db::Timestamp;

/// One exported value; `None` where the record does not know it.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Id(Uuid),
    Text(Option<String>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Time(Option<Timestamp>),
}

impl Cell {
    fn is_null(&self) -> bool {
        matches!(
            self,
            Self::Text(None) | Self::Int(None) | Self::Bool(None) | Self::Time(None)
        )
    }

    /// The value as text, for GraphML and CSV; empty for `None`.
    fn write_text(&self, out: &mut String) {
        match self {
            Self::Id(id) => {
                let _ = write!(out, "{id}");
            }
            Self::Text(text) => out.push_str(text.as_deref().unwrap_or_default()),
            Self::Int(Some(n)) => {
                let _ = write!(out, "{n}");
            }
            Self::Bool(Some(b)) => out.push_str(if *b { "true" } else { "false" }),
            Self::Time(Some(t)) => out.push_str(&t.to_iso()),
            Self::Int(None) | Self::Bool(None) | Self::Time(None) => {}
        }
    }
}

/// An edge: from a developer, to a developer or repository.
#[derive(Clone, Copy, Debug)]
pub struct Edge {
    pub source: Uuid,
    pub target: Uuid,
    pub starred_at: Option<Timestamp>,
}

pub struct Encoder {
    format: Format,
    buffer: String,
    counts: Counts,
    /// Scratch space for one value, reused.
    value: String,
}

impl Encoder {
    pub fn new(format: Format) -> Self {
        Self {
            format,
            buffer: String::with_capacity(2 * super::CHUNK),
            counts: Counts::default(),
            value: String::new(),
        }
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }

    pub fn pending(&self) -> usize {
        self.buffer.len()
    }

    /// What is encoded so far, leaving the buffer empty.
    pub fn take(&mut self) -> Bytes {
        let capacity = self.buffer.capacity();
        Bytes::from(std::mem::replace(
            &mut self.buffer,
            String::with_capacity(capacity),
        ))
    }

    pub fn begin(&mut self) {
        if self.format == Format::GraphMl {
            self.graphml_header();
        }
    }

    /// A CSV table starts with its header row; the other formats go on as they are.
    pub fn start_table(&mut self, table: Table) {
        if self.format != Format::Csv {
            return;
        }
        let names: Vec<&str> = match table.fields() {
            Some(fields) => fields.iter().map(|f| f.name).collect(),
            None => edge_columns(table).to_vec(),
        };
        self.buffer.push_str(&names.join(","));
        self.buffer.push_str("\r\n");
    }

    pub fn end(&mut self) {
        if self.format == Format::GraphMl {
            self.buffer.push_str("</graph>\n</graphml>\n");
        }
    }

    /// A developer or a repository, its cells in the order of its table's fields.
    pub fn node(&mut self, table: Table, cells: &[Cell]) {
        let fields = table.fields().expect("a node table");
        self.counts.nodes += 1;
        match self.format {
            Format::GraphMl => self.graphml_node(table, fields, cells),
            Format::Csv => self.csv_row(cells),
            Format::Ndjson => {
                let kind = if table == Table::Developers {
                    "developer"
                } else {
                    "repository"
                };
                self.buffer.push_str("{\"type\":\"");
                self.buffer.push_str(kind);
                self.buffer.push('"');
                for (field, cell) in fields.iter().zip(cells) {
                    self.buffer.push_str(",\"");
                    self.buffer.push_str(field.name);
                    self.buffer.push_str("\":");
                    self.json_value(cell);
                }
                self.buffer.push_str("}\n");
            }
        }
    }

    pub fn edge(&mut self, table: Table, edge: Edge) {
        self.counts.edges += 1;
        let starred_at = (table == Table::Starred).then_some(Cell::Time(edge.starred_at));
        match self.format {
            Format::GraphMl => {
                let _ = write!(
                    self.buffer,
                    "<edge source=\"{}\" target=\"{}\"><data key=\"e_kind\">{}</data>",
                    edge.source,
                    edge.target,
                    table.name()
                );
                if let Some(cell) = starred_at.filter(|c| !c.is_null()) {
                    self.buffer.push_str("<data key=\"e_starred_at\">");
                    self.xml_value(&cell);
                    self.buffer.push_str("</data>");
                }
                self.buffer.push_str("</edge>\n");
            }
            Format::Csv => {
                let mut cells = vec![Cell::Id(edge.source), Cell::Id(edge.target)];
                cells.extend(starred_at);
                self.csv_row(&cells);
            }
            Format::Ndjson => {
                let _ = write!(
                    self.buffer,
                    "{{\"type\":\"{}\",\"source\":\"{}\",\"target\":\"{}\"",
                    table.name(),
                    edge.source,
                    edge.target
                );
                if let Some(cell) = starred_at {
                    self.buffer.push_str(",\"starred_at\":");
                    self.json_value(&cell);
                }
                self.buffer.push_str("}\n");
            }
        }
    }

    /// Keys are declared once per attribute name: developers and repositories share some
    /// (`name`, `github_id`, `created_at`, …), always with the same type.
    fn graphml_header(&mut self) {
        self.buffer.push_str(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
             xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns \
             http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n\
             <key id=\"n_kind\" for=\"node\" attr.name=\"kind\" attr.type=\"string\"/>\n\
             <key id=\"n_label\" for=\"node\" attr.name=\"label\" attr.type=\"string\"/>\n",
        );
        let mut declared: Vec<&str> = Vec::new();
        for field in DEVELOPER_FIELDS.iter().chain(REPOSITORY_FIELDS) {
            // The node's own id is the GraphML id.
            if field.kind == Type::Id || declared.contains(&field.name) {
                continue;
            }
            declared.push(field.name);
            let kind = match field.kind {
                Type::Int => "long",
                Type::Bool => "boolean",
                Type::Id | Type::Text | Type::Time => "string",
            };
            let _ = writeln!(
                self.buffer,
                "<key id=\"n_{0}\" for=\"node\" attr.name=\"{0}\" attr.type=\"{kind}\"/>",
                field.name
            );
        }
        self.buffer.push_str(
            "<key id=\"e_kind\" for=\"edge\" attr.name=\"kind\" attr.type=\"string\"/>\n\
             <key id=\"e_starred_at\" for=\"edge\" attr.name=\"starred_at\" attr.type=\"string\"/>\n\
             <graph id=\"git-o-matic-9k\" edgedefault=\"directed\">\n",
        );
    }

    fn graphml_node(&mut self, table: Table, fields: &[Field], cells: &[Cell]) {
        let (kind, label) = if table == Table::Developers {
            ("developer", "login")
        } else {
            ("repository", "full_name")
        };
        let mut id = None;
        let mut label_cell = None;
        for (field, cell) in fields.iter().zip(cells) {
            if field.kind == Type::Id {
                id = Some(cell);
            } else if field.name == label {
                label_cell = Some(cell);
            }
        }
        self.buffer.push_str("<node id=\"");
        if let Some(id) = id {
            self.xml_value(id);
        }
        let _ = write!(self.buffer, "\"><data key=\"n_kind\">{kind}</data>");
        if let Some(cell) = label_cell.filter(|c| !c.is_null()) {
            self.buffer.push_str("<data key=\"n_label\">");
            self.xml_value(cell);
            self.buffer.push_str("</data>");
        }
        for (field, cell) in fields.iter().zip(cells) {
            if field.kind == Type::Id || cell.is_null() {
                continue;
            }
            let _ = write!(self.buffer, "<data key=\"n_{}\">", field.name);
            self.xml_value(cell);
            self.buffer.push_str("</data>");
        }
        self.buffer.push_str("</node>\n");
    }

    /// Escaped for XML; characters XML 1.0 cannot hold at all (most control characters) are
    /// written as U+FFFD, or no XML reader would take the document.
    fn xml_value(&mut self, cell: &Cell) {
        self.value.clear();
        cell.write_text(&mut self.value);
        for c in self.value.chars() {
            match c {
                '&' => self.buffer.push_str("&amp;"),
                '<' => self.buffer.push_str("&lt;"),
                '>' => self.buffer.push_str("&gt;"),
                '"' => self.buffer.push_str("&quot;"),
                // Kept as characters, a reader would normalise them to spaces.
                '\t' => self.buffer.push_str("&#9;"),
                '\n' => self.buffer.push_str("&#10;"),
                '\r' => self.buffer.push_str("&#13;"),
                c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                    self.buffer.push('\u{FFFD}');
                }
                c => self.buffer.push(c),
            }
        }
    }

    /// RFC 4180: a value holding a comma, a quote or a line break is quoted, its quotes
    /// doubled; `None` is an empty field.
    fn csv_row(&mut self, cells: &[Cell]) {
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                self.buffer.push(',');
            }
            self.value.clear();
            cell.write_text(&mut self.value);
            if self.value.contains([',', '"', '\n', '\r']) {
                self.buffer.push('"');
                self.buffer.push_str(&self.value.replace('"', "\"\""));
                self.buffer.push('"');
            } else {
                self.buffer.push_str(&self.value);
            }
        }
        self.buffer.push_str("\r\n");
    }

    fn json_value(&mut self, cell: &Cell) {
        match cell {
            _ if cell.is_null() => self.buffer.push_str("null"),
            Cell::Int(_) | Cell::Bool(_) => cell.write_text(&mut self.buffer),
            Cell::Text(Some(text)) => {
                let quoted = serde_json::to_string(text).expect("a string serialises");
                self.buffer.push_str(&quoted);
            }
            _ => {
                self.buffer.push('"');
                cell.write_text(&mut self.buffer);
                self.buffer.push('"');
            }
        }
    }
}

/// The columns of an edge table's CSV file.
fn edge_columns(table: Table) -> &'static [&'static str] {
    match table {
        Table::Follows => &["follower_id", "followee_id"],
        Table::Owns => &["owner_id", "repository_id"],
        Table::Starred => &["developer_id", "repository_id", "starred_at"],
        Table::Developers | Table::Repositories => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> Cell {
        Cell::Text(Some(value.to_owned()))
    }

    #[test]
    fn csv_quotes_what_needs_it_and_leaves_nulls_empty() {
        let mut encoder = Encoder::new(Format::Csv);
        encoder.csv_row(&[
            text("a,b"),
            text("say \"hi\""),
            text("two\nlines"),
            Cell::Text(None),
            Cell::Int(Some(-3)),
            Cell::Bool(Some(true)),
            Cell::Time(None),
        ]);
        assert_eq!(
            encoder.take(),
            "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",,-3,true,\r\n"
        );
    }

    #[test]
    fn xml_escapes_markup_and_replaces_what_xml_cannot_hold() {
        let mut encoder = Encoder::new(Format::GraphMl);
        encoder.xml_value(&text("<a href=\"x\">&</a>\t\u{1}\u{FFFF}é"));
        assert_eq!(
            encoder.take(),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;&#9;\u{FFFD}\u{FFFD}é"
        );
    }

    #[test]
    fn ndjson_writes_types_and_nulls_as_json() {
        let mut encoder = Encoder::new(Format::Ndjson);
        let id = Uuid::nil();
        let mut cells: Vec<Cell> = DEVELOPER_FIELDS
            .iter()
            .map(|field| match field.kind {
                Type::Id => Cell::Id(id),
                Type::Int => Cell::Int(None),
                Type::Bool => Cell::Bool(None),
                Type::Time => Cell::Time(None),
                Type::Text => Cell::Text(None),
            })
            .collect();
        cells[1] = Cell::Int(Some(42));
        cells[2] = text("line\nbreak \"quoted\"");
        encoder.node(Table::Developers, &cells);
        let line = String::from_utf8(encoder.take().to_vec()).unwrap();
        let value: serde_json::Value = serde_json::from_str(line.trim_end()).unwrap();
        assert_eq!(value["type"], "developer");
        assert_eq!(value["id"], id.to_string());
        assert_eq!(value["github_id"], 42);
        assert_eq!(value["login"], "line\nbreak \"quoted\"");
        assert!(value["name"].is_null() && value["synced_at"].is_null());
        assert_eq!(encoder.counts(), Counts { nodes: 1, edges: 0 });
    }

    #[test]
    fn graphml_declares_each_attribute_once_and_closes() {
        let mut encoder = Encoder::new(Format::GraphMl);
        encoder.begin();
        encoder.edge(
            Table::Starred,
            Edge {
                source: Uuid::nil(),
                target: Uuid::max(),
                starred_at: None,
            },
        );
        encoder.end();
        let document = String::from_utf8(encoder.take().to_vec()).unwrap();
        assert_eq!(document.matches("attr.name=\"name\"").count(), 1);
        assert_eq!(document.matches("attr.name=\"created_at\"").count(), 1);
        assert!(document.contains("attr.name=\"github_id\" attr.type=\"long\""));
        assert!(document.contains("attr.name=\"archived\" attr.type=\"boolean\""));
        assert!(
            !document.contains("e_starred_at\">"),
            "no element for a null"
        );
        assert!(document.ends_with("</graph>\n</graphml>\n"));
        assert_eq!(encoder.counts(), Counts { nodes: 0, edges: 1 });
    }
}
