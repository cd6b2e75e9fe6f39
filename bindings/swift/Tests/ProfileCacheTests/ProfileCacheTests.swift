// The story of issue 6 in Swift, against the real library and the in-process sandbox
// (the same story as the Kotlin tests): sync, read, search, the outbox offline and
// online, the errors an app acts on, cancel (also by cancelling the task), reads from
// many threads during a sync, the log sink, close.

import Foundation
import ProfileCache
import XCTest

/// Gives the sandbox's company token (or a fixed bad one).
final class SandboxTokens: TokenProvider, @unchecked Sendable {
    let sandbox: TestSandbox
    let fixed: String?
    private let lock = NSLock()
    private var _calls = 0
    private var _issued: [String] = []
    var calls: Int { lock.withLock { _calls } }
    /// Every token handed to the library.
    var issued: [String] { lock.withLock { _issued } }

    init(_ sandbox: TestSandbox, fixed: String? = nil) {
        self.sandbox = sandbox
        self.fixed = fixed
    }

    func accessToken(actingFor: String?, forceRefresh: Bool) throws -> String {
        let token = try fixed ?? sandbox.issueToken(login: nil)
        lock.withLock {
            _calls += 1
            _issued.append(token)
        }
        return token
    }
}

/// A token provider whose app code fails.
final class ThrowingTokens: TokenProvider, @unchecked Sendable {
    func accessToken(actingFor: String?, forceRefresh: Bool) throws -> String {
        throw AppError.Failed(detail: "no signed-in user")
    }
}

/// Records what a listener or sink is given.
final class Recorder<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var _items: [T] = []
    var items: [T] { lock.withLock { _items } }
    func add(_ item: T) { lock.withLock { _items.append(item) } }
}

final class ProgressRecorder: SyncListener, @unchecked Sendable {
    let events = Recorder<SyncProgress>()
    func onProgress(progress: SyncProgress) throws { events.add(progress) }
}

final class OutboxRecorder: OutboxListener, @unchecked Sendable {
    let events = Recorder<OutboxEvent>()
    func onEvent(event: OutboxEvent) throws { events.add(event) }
}

final class LogRecorder: LogSink, @unchecked Sendable {
    let records = Recorder<LogRecord>()
    func log(record: LogRecord) throws { records.add(record) }
}

/// Runs async work to completion from synchronous code (class set-up).
func blocking<T>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: Result<T, Error>?
    Task.detached {
        do { result = .success(try await work()) } catch { result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try result!.get()
}

/// Asserts that `work` throws a `CacheError` and returns it.
func cacheError<T>(
    _ work: () async throws -> T, file: StaticString = #filePath, line: UInt = #line
) async -> CacheError? {
    do {
        _ = try await work()
        XCTFail("expected a CacheError", file: file, line: line)
    } catch let e as CacheError {
        return e
    } catch {
        XCTFail("expected a CacheError, got \(error)", file: file, line: line)
    }
    return nil
}

final class ProfileCacheTests: XCTestCase {
    static let profiles: UInt64 = 2_000
    nonisolated(unsafe) static var sandbox: TestSandbox!
    nonisolated(unsafe) static var dir: URL!
    nonisolated(unsafe) static var cache: ProfileCache!
    nonisolated(unsafe) static var report: SyncReport!
    static let progress = ProgressRecorder()

    var sandbox: TestSandbox { Self.sandbox }
    var cache: ProfileCache { Self.cache }

    static func config(_ db: String, baseUrl: String? = nil) -> CacheConfig {
        CacheConfig(
            dbPath: dir.appendingPathComponent(db).path,
            baseUrl: baseUrl ?? sandbox.baseUrl(),
            requestTimeoutMs: 2_000,
            retryBaseDelayMs: 10,
            retryMaxDelayMs: 100,
            offlineTotalMs: 300,
            outboxBaseDelayMs: 200,
            outboxMaxDelayMs: 2_000
        )
    }

    static func air(_ code: String, _ account: String?) -> LoyaltyMembership {
        LoyaltyMembership(
            uniqueId: "Frequent Flyer", vendorCode: code, vendorType: .air, accountNo: account,
            status: "Senator", statusBenefits: nil, pointTotal: .number(120_500),
            segmentTotal: .number(61), nextStatus: nil, pointsUntilNextStatus: nil,
            segmentsUntilNextStatus: nil)
    }

    func logins() throws -> [String] {
        try cache.list(filter: ListFilter()).map(\.login)
    }

    override class func setUp() {
        super.setUp()
        do {
            sandbox = try TestSandbox.start(profiles: profiles, seed: 42)
            dir = FileManager.default.temporaryDirectory
                .appendingPathComponent("profile-cache-swift-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            cache = try ProfileCache.open(config: config("cache.db"), tokens: SandboxTokens(sandbox))
            let c = cache!
            let listener = progress
            report = try blocking { try await c.sync(options: SyncOptions(), listener: listener) }
        } catch {
            fatalError("set-up failed: \(error)")
        }
    }

    override class func tearDown() {
        cache?.shutdown()
        cache = nil
        sandbox = nil
        if let dir { try? FileManager.default.removeItem(at: dir) }
        super.tearDown()
    }

    func test01SyncStoresEveryProfileAndReportsProgress() throws {
        XCTAssertEqual(Self.report.profilesFetched, Self.profiles)
        XCTAssertEqual(Self.report.failed, 0)
        let events = Self.progress.events.items
        XCTAssertGreaterThanOrEqual(events.count, 2)
        XCTAssertEqual(events.last?.phase, .done)
        XCTAssertTrue(events.contains { $0.phase == .fetching && $0.profilesDone > 0 && $0.profilesDone < Self.profiles })
        let status = try cache.status()
        XCTAssertFalse(status.running)
        XCTAssertEqual(status.counts.profiles, Self.profiles)
        XCTAssertNotNil(status.lastSuccessAt)
        XCTAssertNil(status.lastError)
    }

    func test02ProfileShowsAccentsPassportAndMembership() throws {
        let found = try logins().lazy.compactMap { try? self.cache.profile(login: $0) }.first { p in
            let g = p.profile.general
            let name = "\(g?.firstName ?? "") \(g?.lastName ?? "")"
            return name.unicodeScalars.contains { !$0.isASCII } && !p.profile.passports.isEmpty
                && !(p.profile.air?.memberships.isEmpty ?? true)
        }
        let p = try XCTUnwrap(found, "some traveler has an accented name, a passport and an air membership")
        XCTAssertEqual(p.profile.loginId, p.login)
        XCTAssertFalse((p.profile.passports[0].number ?? "").isEmpty)
        XCTAssertFalse((p.profile.air!.memberships[0].vendorCode ?? "").isEmpty)
        XCTAssertGreaterThan(p.fetchedAt, 1_600_000_000_000, "timestamps are epoch milliseconds")
        if let expiration = p.profile.passports[0].expiration {
            let parts = expiration.split(separator: "-")
            XCTAssertEqual(parts.map(\.count), [4, 2, 2], "dates are ISO strings")
        }
        if let uuid = p.uuid { XCTAssertEqual(try cache.profileByUuid(uuid: uuid)?.login, p.login) }
        if let syncId = p.syncId { XCTAssertEqual(try cache.profileBySyncId(syncId: syncId)?.login, p.login) }
        XCTAssertNil(try cache.profile(login: "nobody@nowhere.example"))
    }

    func test03SearchFindsTravelersByANamePrefix() throws {
        let someone = try XCTUnwrap(cache.profile(login: logins()[7])?.profile.general?.lastName)
        let prefix = String(someone.prefix(3))
        let hits = try cache.search(query: prefix, limit: 20)
        XCTAssertFalse(hits.isEmpty, "hits for \(prefix)")
        XCTAssertTrue(zip(hits, hits.dropFirst()).allSatisfy { $0.score >= $1.score }, "best first")
        let names = try hits.compactMap { try cache.profile(login: $0.login)?.profile.general }
        XCTAssertTrue(
            names.contains { g in
                [g.firstName, g.lastName, g.preferredName].compactMap { $0 }
                    .contains { $0.lowercased().hasPrefix(prefix.lowercased()) }
            }, "a hit's name starts with \(prefix)")
    }

    func test04AnUpdateQueuedOfflineStaysPendingThenIsSent() async throws {
        let login = try logins()[3]
        let events = OutboxRecorder()
        try cache.setOutboxListener(listener: events)
        sandbox.setDown(down: true)
        defer {
            sandbox.setDown(down: false)
            try? cache.setOutboxListener(listener: nil)
        }
        let id = try cache.queueLoyaltyUpdate(login: login, membership: Self.air("LH", "992211334455"))
        let shown = try XCTUnwrap(cache.profile(login: login))
        XCTAssertTrue(shown.hasPending)
        XCTAssertEqual(shown.pending.first { $0.updateId == id }?.state, .pending)
        let lh = shown.profile.air?.memberships.filter { $0.vendorCode == "LH" }
        XCTAssertEqual(lh?.count, 1)
        XCTAssertEqual(lh?.first?.accountNo, "992211334455")
        let offline = try await cache.flushUpdates()
        XCTAssertEqual(offline.pending, 1)
        XCTAssertEqual(try cache.update(id: id)?.state, .pending)
        XCTAssertGreaterThanOrEqual(try cache.update(id: id)?.attempts ?? 0, 1)

        sandbox.setDown(down: false)
        let online = try await cache.kick()
        XCTAssertEqual(online.sent, 1)
        let sent = try XCTUnwrap(cache.update(id: id))
        XCTAssertEqual(sent.state, .sent)
        XCTAssertNotNil(sent.sentAt)
        XCTAssertTrue(events.events.items.contains { $0.updateId == id && $0.to == .sent }, "the listener saw it sent")
        XCTAssertEqual(try cache.outboxStatus().pending, 0)
    }

    func test05ARefusedUpdateEndsFailedWithTheServersReason() async throws {
        // Two letters, so valid locally; the server knows no such airline.
        let id = try cache.queueLoyaltyUpdate(login: logins()[4], membership: Self.air("ZZ", "1"))
        let report = try await cache.flushUpdates()
        XCTAssertEqual(report.failed, 1)
        let u = try XCTUnwrap(cache.update(id: id))
        XCTAssertEqual(u.state, .failed)
        XCTAssertTrue(u.lastError?.contains("unknown vendor code") ?? false, u.lastError ?? "no error")
        XCTAssertTrue(try cache.discardUpdate(id: id))
    }

    func test06InvalidInputNamesTheField() async throws {
        let e = await cacheError { try self.cache.queueLoyaltyUpdate(login: "  ", membership: Self.air("LH", "1")) }
        guard case let .InvalidInput(detail, field, _) = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertEqual(field, "login")
        XCTAssertTrue(detail.contains("login"), detail)
        XCTAssertEqual(e?.detail, detail)
        XCTAssertTrue(e?.localizedDescription.contains("login") ?? false)

        let login = try logins()[0]
        let e2 = await cacheError { try self.cache.queueLoyaltyUpdate(login: login, membership: Self.air("LH", nil)) }
        guard case let .InvalidInput(_, field2, _) = e2 else { return XCTFail("got \(String(describing: e2))") }
        XCTAssertEqual(field2, "account_no")

        var bad = Self.config("x.db")
        bad.pageSize = 500
        let e3 = await cacheError { try ProfileCache.open(config: bad, tokens: SandboxTokens(self.sandbox)) }
        guard case let .InvalidInput(_, field3, _) = e3 else { return XCTFail("got \(String(describing: e3))") }
        XCTAssertEqual(field3, "page_size")
    }

    func test07ABadTokenGivesTheUnauthorizedError() async throws {
        let tokens = SandboxTokens(sandbox, fixed: "not-a-token")
        let c = try ProfileCache.open(config: Self.config("bad-token.db"), tokens: tokens)
        defer { c.shutdown() }
        let e = await cacheError { try await c.sync(options: SyncOptions(), listener: nil) }
        guard case let .Unauthorized(detail, status) = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertTrue(status == 401 || status == 403, "status \(String(describing: status))")
        XCTAssertFalse(detail.isEmpty)
        XCTAssertGreaterThanOrEqual(tokens.calls, 2, "refreshed once before giving up")
        XCTAssertFalse(String(reflecting: e!).contains("not-a-token"), "the token is never quoted")
    }

    func test08ATokenProviderThatThrowsGivesUnauthorizedNotACrash() async throws {
        let login = try logins()[0]
        let c = try ProfileCache.open(config: Self.config("throwing.db"), tokens: ThrowingTokens())
        defer { c.shutdown() }
        let e = await cacheError { try await c.refreshProfile(login: login) }
        guard case let .Unauthorized(_, status) = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertNil(status)
    }

    func test09ADeadServerGivesTheOfflineErrorAndReadsKeepWorking() async throws {
        let login = try logins()[0]
        // Port 9 (discard) on loopback: nothing listens, connections are refused.
        let c = try ProfileCache.open(
            config: Self.config("cache.db", baseUrl: "http://127.0.0.1:9"), tokens: SandboxTokens(sandbox))
        defer { c.shutdown() }
        let e = await cacheError { try await c.refreshProfile(login: login) }
        guard case let .Offline(detail) = e else { return XCTFail("got \(String(describing: e))") }
        XCTAssertTrue(detail.contains("unreachable"), detail)
        XCTAssertNotNil(try c.profile(login: login), "the cache works offline")
    }

    /// Waits (up to 30 s) until the listener saw a stored profile.
    func waitForProgress(_ listener: ProgressRecorder) async throws {
        let deadline = Date().addingTimeInterval(30)
        while !listener.events.items.contains(where: { $0.profilesDone > 0 }) {
            XCTAssertLessThan(Date(), deadline, "no progress within 30 s")
            if Date() >= deadline { return }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
    }

    func test10CancelStopsALongSync() async throws {
        try sandbox.setLatency(spec: "20")
        defer { try? sandbox.setLatency(spec: nil) }
        let c = try ProfileCache.open(config: Self.config("cancelled.db"), tokens: SandboxTokens(sandbox))
        defer { c.shutdown() }
        let listener = ProgressRecorder()
        let started = Date()
        let job = Task { try await c.sync(options: SyncOptions(), listener: listener) }
        try await waitForProgress(listener)
        XCTAssertTrue(try c.status().running)
        try c.cancel()
        let e = await cacheError { try await job.value }
        guard case .Cancelled = e else { return XCTFail("ended with \(String(describing: e))") }
        XCTAssertLessThan(Date().timeIntervalSince(started), 30)
        let status = try c.status()
        XCTAssertFalse(status.running)
        XCTAssertLessThan(status.counts.profiles, Self.profiles, "stopped early")
    }

    func test11CancellingTheTaskStopsTheSync() async throws {
        try sandbox.setLatency(spec: "20")
        defer { try? sandbox.setLatency(spec: nil) }
        let c = try ProfileCache.open(config: Self.config("task-cancelled.db"), tokens: SandboxTokens(sandbox))
        defer { c.shutdown() }
        let listener = ProgressRecorder()
        let job = Task { try await c.syncCancellable(listener: listener) }
        try await waitForProgress(listener)
        job.cancel()
        let e = await cacheError { try await job.value }
        guard case .Cancelled = e else { return XCTFail("ended with \(String(describing: e))") }
        XCTAssertFalse(try c.status().running)
        XCTAssertLessThan(try c.status().counts.profiles, Self.profiles, "stopped early")
    }

    func test12ReadsFromSeveralThreadsDuringASync() async throws {
        let all = try logins()
        let c = cache
        let stop = Recorder<Bool>()
        let reads = Recorder<Int>()
        let failures = Recorder<String>()
        let readers = (0..<4).map { t in
            Thread {
                var i = t
                while stop.items.isEmpty {
                    do {
                        let login = all[i % all.count]
                        if try c.profile(login: login) == nil { failures.add("missing profile \(i)") }
                        if i % 5 == 0 { _ = try c.search(query: String(login.prefix(4)), limit: 5) }
                        if i % 7 == 0 { _ = try c.status() }
                        reads.add(i)
                    } catch {
                        failures.add("\(error)")
                    }
                    i += 4
                }
                reads.add(-1)
            }
        }
        readers.forEach { $0.start() }
        _ = sandbox.mutateRandom(n: 50)
        let r = try await cache.sync(options: SyncOptions(full: true), listener: nil)
        stop.add(true)
        let deadline = Date().addingTimeInterval(10)
        while reads.items.filter({ $0 == -1 }).count < 4 && Date() < deadline {
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        XCTAssertEqual(reads.items.filter { $0 == -1 }.count, 4, "every reader stopped")
        XCTAssertEqual(failures.items, [])
        XCTAssertGreaterThanOrEqual(r.profilesFetched, Self.profiles)
        XCTAssertEqual(try cache.status().counts.profiles, Self.profiles)
        XCTAssertGreaterThan(reads.items.count, 100, "reads during the sync")
    }

    func test13TheLogSinkGetsTheLibrarysLinesWithoutProfileValuesOrTokens() async throws {
        let sink = LogRecorder()
        XCTAssertTrue(setLogSink(sink: sink, level: .debug))
        defer { _ = setLogSink(sink: nil, level: .info) }
        let tokens = SandboxTokens(sandbox)
        let c = try ProfileCache.open(config: Self.config("logged.db"), tokens: tokens)
        defer { c.shutdown() }
        let all = try logins()
        _ = try await c.sync(options: SyncOptions(), listener: nil)
        _ = try c.queueLoyaltyUpdate(login: all[5], membership: Self.air("LH", "5544332211"))
        _ = try await c.kick()
        let records = sink.records.items
        let messages = records.map(\.message)
        XCTAssertTrue(messages.contains { $0.hasPrefix("sync started") }, "\(messages.prefix(5))")
        XCTAssertTrue(messages.contains { $0.hasPrefix("sync finished") })
        XCTAssertTrue(records.contains { $0.level == .debug }, "debug lines pass at .debug")
        XCTAssertTrue(records.allSatisfy { $0.target.hasPrefix("profile_cache") })
        XCTAssertFalse(tokens.issued.isEmpty)
        for m in messages {
            XCTAssertFalse(tokens.issued.contains { m.contains($0) }, "a token in the log")
            XCTAssertFalse(m.contains("@"), "a login in the log: \(m)")
            XCTAssertFalse(m.contains("5544332211"), "an account number in the log")
        }
        // A higher level filters on the Rust side.
        XCTAssertTrue(setLogSink(sink: sink, level: .warn))
        let before = sink.records.items.count
        _ = try await c.sync(options: SyncOptions(), listener: nil)
        XCTAssertEqual(sink.records.items.count, before, "no warnings in a clean sync")
    }

    func test14CloseEndsTheCache() throws {
        let login = try logins()[1]
        let c = try ProfileCache.open(config: Self.config("cache.db"), tokens: SandboxTokens(sandbox))
        XCTAssertNotNil(try c.profile(login: login))
        c.shutdown()
        do {
            _ = try c.profile(login: login)
            XCTFail("a closed cache answered")
        } catch let e as CacheError {
            guard case .Closed = e else { return XCTFail("got \(e)") }
        }
        c.shutdown()
    }
}
