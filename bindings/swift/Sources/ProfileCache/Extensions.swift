// Hand-written additions to the generated API (Generated/ProfileCache.swift): the
// pieces that make it read like Swift. Nothing here talks to the library except through
// the generated functions.

extension CacheError {
    /// The library's sentence for this error: safe to log or show (it never holds
    /// profile values or tokens).
    public var detail: String {
        switch self {
        case let .Offline(detail),
            let .Unauthorized(detail, _),
            let .RateLimited(detail, _),
            let .Server(detail, _),
            let .InvalidInput(detail, _, _),
            let .NotFound(detail),
            let .Storage(detail, _),
            let .Cancelled(detail),
            let .Incompatible(detail),
            let .Closed(detail):
            return detail
        }
    }
}

extension CacheError: CustomStringConvertible {
    public var description: String { detail }
}

extension ProfileCache {
    /// `sync(options:listener:)`, stopped when the calling task is cancelled.
    ///
    /// Cancelling a Swift task does not stop Rust work by itself: this wrapper calls
    /// `cancel()` when the task is cancelled, and the sync then ends within about a
    /// second with `CacheError.Cancelled` (the next sync resumes where it stopped).
    public func syncCancellable(
        options: SyncOptions = SyncOptions(),
        listener: SyncListener? = nil
    ) async throws -> SyncReport {
        try await withTaskCancellationHandler {
            try await sync(options: options, listener: listener)
        } onCancel: {
            try? self.cancel()
        }
    }
}
