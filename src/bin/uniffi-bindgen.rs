//! The uniffi bindings generator, built from this crate's own uniffi version (feature
//! `bindgen`). Generate from the built, unstripped library, with the same features:
//! `cargo run --features bindgen,ffi-sandbox --bin uniffi-bindgen -- generate
//! target/debug/libprofile_cache.so --language kotlin --out-dir <dir>`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
