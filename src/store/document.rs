//! How a profile's XML document is kept on disk: compressed, losslessly, so the exact bytes
//! the server sent come back.
//!
//! Documents are compressed with zstd against a dictionary: `document-dictionary.xml`, one
//! complete profile document (synthetic, made by the sandbox's generator; no real
//! person). A profile is 5–10 KB of the same markup every time, and a document compressed
//! on its own cannot refer to what it has not yet seen; against the dictionary it refers to
//! the markup and the usual value formats from the first byte. On sandbox data this stores
//! a profile in about 0.8 KB where LZ4 (the format before) took 2.7 KB and zstd without a
//! dictionary 1.8 KB. Real data will do less well than the sandbox's, whose values come from
//! the same generator as the dictionary's; with only the dictionary's markup (values
//! removed) it is 1.4 KB.
//!
//! The format of the `profiles.xml` column:
//! * `PCZ\x01`, the document's length (`u32`, little endian), then one zstd frame made
//!   with dictionary 1. A later dictionary gets the next version byte; this one must stay
//!   readable for as long as such rows may exist.
//! * Anything else is the earlier format: LZ4 with the length first
//!   (`lz4_flex::compress_prepend_size`), still read. (Its first four bytes are a length
//!   under 16 MiB, so its fourth byte is 0 and it cannot be mistaken for the above.)

use crate::Result;
use crate::error::StoreError;
use std::cell::RefCell;
use std::sync::LazyLock;
use zstd::bulk::{Compressor, Decompressor};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

/// Dictionary 1 (never change it: add another).
const DICTIONARY_1: &[u8] = include_bytes!("document-dictionary.xml");
/// The first bytes of a document compressed with dictionary 1.
const MAGIC_1: [u8; 4] = *b"PCZ\x01";
/// zstd's level: 3 compresses a profile in about 14 µs (LZ4 took 6 µs) for a third of
/// LZ4's size; higher levels cost several times more for a few percent.
const LEVEL: i32 = 3;
/// The largest document length a row may claim: a corrupt length must not make a read
/// allocate gigabytes. (Parsed documents are at most 8 MiB.)
const MAX_DOCUMENT: usize = 64 << 20;

static ENCODER_DICTIONARY: LazyLock<EncoderDictionary<'static>> =
    LazyLock::new(|| EncoderDictionary::copy(DICTIONARY_1, LEVEL));
static DECODER_DICTIONARY: LazyLock<DecoderDictionary<'static>> =
    LazyLock::new(|| DecoderDictionary::copy(DICTIONARY_1));

thread_local! {
    // One context per thread, made on first use (a context is about 1 MB while in use
    // and setting one up costs more than compressing a profile).
    static COMPRESSOR: RefCell<Option<(Compressor<'static>, Vec<u8>)>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<Decompressor<'static>>> = const { RefCell::new(None) };
}

/// Encodes a document for the `profiles.xml` column (zstd with the dictionary, about
/// 14 µs for a typical profile). Callers storing many profiles can do it where the
/// documents arrive, off the writer thread, and pass the result as
/// [`Document::Encoded`](super::Document::Encoded).
pub fn encode(xml: &str) -> Vec<u8> {
    compress(xml.as_bytes()).unwrap_or_else(|| lz4_flex::compress_prepend_size(xml.as_bytes()))
}

/// The zstd format, or `None` when zstd fails (it cannot for want of room: the buffer is
/// sized by its bound; what is left is running out of memory) or the document is too long
/// for the header, in which case the caller stores the earlier format.
fn compress(bytes: &[u8]) -> Option<Vec<u8>> {
    let len = u32::try_from(bytes.len()).ok()?;
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let (compressor, scratch) = match cell.as_mut() {
            Some(c) => c,
            None => cell.insert((
                Compressor::with_prepared_dictionary(&ENCODER_DICTIONARY).ok()?,
                Vec::new(),
            )),
        };
        // Compressed into a buffer sized for the worst case, then copied out at its size:
        // the result is held (a sync queues thousands) and must not keep that capacity.
        scratch.clear();
        scratch.resize(zstd::zstd_safe::compress_bound(bytes.len()), 0);
        let written = compressor
            .compress_to_buffer(bytes, &mut scratch[..])
            .ok()?;
        let mut out = Vec::with_capacity(8 + written);
        out.extend_from_slice(&MAGIC_1);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&scratch[..written]);
        Some(out)
    })
}

/// Decodes the `profiles.xml` column. A blob that does not decode is a corrupt database.
pub(crate) fn decode(blob: &[u8]) -> Result<String> {
    let bytes = match blob.split_first_chunk::<8>() {
        Some((head, frame)) if head[..4] == MAGIC_1 => {
            let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
            decompress(frame, len).ok_or(StoreError::Corrupt)?
        }
        _ => lz4_flex::decompress_size_prepended(blob).map_err(|_| StoreError::Corrupt)?,
    };
    String::from_utf8(bytes).map_err(|_| StoreError::Corrupt.into())
}

fn decompress(frame: &[u8], len: usize) -> Option<Vec<u8>> {
    if len > MAX_DOCUMENT {
        return None;
    }
    let mut out = Vec::with_capacity(len);
    DECOMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let decompressor = match cell.as_mut() {
            Some(d) => d,
            None => cell.insert(Decompressor::with_prepared_dictionary(&DECODER_DICTIONARY).ok()?),
        };
        decompressor.decompress_to_buffer(frame, &mut out).ok()
    })?;
    (out.len() == len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> String {
        format!(
            "<?xml version=\"1.0\"?>\n<ProfileResponse>{}</ProfileResponse>",
            "<General><FirstName>Zoë</FirstName><LastName>Ångström</LastName></General>".repeat(40)
        )
    }

    #[test]
    fn documents_round_trip_exactly_and_shrink() {
        let xml = sample();
        let blob = encode(&xml);
        assert_eq!(blob[..4], MAGIC_1);
        assert!(
            blob.len() * 10 < xml.len(),
            "{} -> {}",
            xml.len(),
            blob.len()
        );
        assert_eq!(decode(&blob).unwrap(), xml);
        assert!(
            blob.capacity() < blob.len() + 64,
            "{} held for {}",
            blob.capacity(),
            blob.len()
        );
        // Empty and tiny documents too, from another thread (its own context).
        std::thread::spawn(|| {
            for xml in ["", "<a/>", "é"] {
                assert_eq!(decode(&encode(xml)).unwrap(), xml);
            }
        })
        .join()
        .unwrap();
    }

    #[test]
    #[cfg(feature = "sandbox")]
    fn the_dictionary_helps_a_real_sized_profile() {
        let (p, q) = crate::sandbox::generate::profile(42, 1);
        let xml = crate::sandbox::generate::render(&p, q);
        let blob = encode(&xml);
        let lz4 = lz4_flex::compress_prepend_size(xml.as_bytes());
        assert!(
            blob.len() * 2 < lz4.len(),
            "zstd {} vs lz4 {}",
            blob.len(),
            lz4.len()
        );
        assert_eq!(decode(&blob).unwrap(), xml);
    }

    #[test]
    fn rows_in_the_earlier_format_still_read() {
        let xml = sample();
        let old = lz4_flex::compress_prepend_size(xml.as_bytes());
        assert_eq!(decode(&old).unwrap(), xml);
    }

    #[test]
    fn a_damaged_blob_is_a_corrupt_database() {
        let corrupt =
            |blob: &[u8]| matches!(decode(blob), Err(crate::Error::Store(StoreError::Corrupt)));
        let good = encode(&sample());
        let mut cut = good.clone();
        cut.truncate(cut.len() / 2);
        assert!(corrupt(&cut));
        // A length that does not match what the frame holds.
        let mut wrong_len = good.clone();
        wrong_len[4] ^= 1;
        assert!(corrupt(&wrong_len));
        // A huge claimed length is refused before anything is allocated.
        let mut huge = good.clone();
        huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(corrupt(&huge));
        let mut flipped = good;
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0xff;
        assert!(corrupt(&flipped) || decode(&flipped).unwrap() != sample());
        assert!(corrupt(b"PCZ\x01"));
        let mut old =
            lz4_flex::compress_prepend_size(b"<ProfileResponse><General/></ProfileResponse>");
        old.truncate(old.len() / 2);
        assert!(corrupt(&old));
        assert!(corrupt(b"\xff\xff\xff\x7f"));
    }
}
