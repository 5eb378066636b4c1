//! The account export written as it is read: the document's head, then `records` one page at a
//! time, so that the server's memory holds one page whatever the account's size.

use actix_web::web::Bytes;
use application::{failure::Failure, identity::AccountRecords};
use futures_util::{Stream, stream};

use super::documents::ExportDocument;

/// Where the writer is.
enum Progress {
    /// Nothing written yet.
    Head(Box<ExportDocument>, AccountRecords),
    /// Inside `records`: `open_table` says whether a table's array is open, `rows_written`
    /// whether it holds a row yet.
    Records {
        records: AccountRecords,
        open_table: bool,
        rows_written: bool,
    },
    /// Everything written.
    Done,
}

/// The export as a stream of JSON chunks. A failure midway ends the stream with an error, which
/// cuts the response short: the client sees an incomplete document, never a wrong one.
pub fn export_body(
    head: ExportDocument,
    records: AccountRecords,
) -> impl Stream<Item = Result<Bytes, Failure>> {
    stream::try_unfold(Progress::Head(Box::new(head), records), next_chunk)
}

async fn next_chunk(progress: Progress) -> Result<Option<(Bytes, Progress)>, Failure> {
    match progress {
        Progress::Head(head, records) => {
            let mut chunk = serde_json::to_vec(&*head).map_err(Failure::unexpected)?;
            // The head is an object: reopen it for `records`.
            chunk.pop();
            chunk.extend_from_slice(br#","records":{"#);
            Ok(Some((
                Bytes::from(chunk),
                Progress::Records {
                    records,
                    open_table: false,
                    rows_written: false,
                },
            )))
        }
        Progress::Records {
            mut records,
            open_table,
            mut rows_written,
        } => {
            let mut chunk = Vec::new();
            let Some((table, first_page, rows)) = records.next_page().await? else {
                if open_table {
                    chunk.push(b']');
                }
                chunk.extend_from_slice(b"}}");
                return Ok(Some((Bytes::from(chunk), Progress::Done)));
            };
            if first_page {
                if open_table {
                    chunk.extend_from_slice(b"],");
                }
                serde_json::to_writer(&mut chunk, table.as_str()).map_err(Failure::unexpected)?;
                chunk.extend_from_slice(b":[");
                rows_written = false;
            }
            for row in &rows {
                if rows_written {
                    chunk.push(b',');
                }
                serde_json::to_writer(&mut chunk, row).map_err(Failure::unexpected)?;
                rows_written = true;
            }
            Ok(Some((
                Bytes::from(chunk),
                Progress::Records {
                    records,
                    open_table: true,
                    rows_written,
                },
            )))
        }
        Progress::Done => Ok(None),
    }
}
