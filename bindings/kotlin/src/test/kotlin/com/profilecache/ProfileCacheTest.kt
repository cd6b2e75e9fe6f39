package com.profilecache

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.MethodOrderer
import org.junit.jupiter.api.Order
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.TestMethodOrder
import org.junit.jupiter.api.assertThrows
import java.nio.file.Files
import java.nio.file.Path
import java.util.Collections
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger

/** Gives the sandbox's company token (or a fixed bad one). */
class SandboxTokens(private val sandbox: TestSandbox, private val fixed: String? = null) : TokenProvider {
    val calls = AtomicInteger()
    /** Every token handed to the library. */
    val issued: MutableList<String> = CopyOnWriteArrayList()
    override fun accessToken(actingFor: String?, forceRefresh: Boolean): String {
        calls.incrementAndGet()
        return (fixed ?: sandbox.issueToken(null)).also { issued.add(it) }
    }
}

/** Records every progress event. */
class Recorder : SyncListener {
    val events: MutableList<SyncProgress> = CopyOnWriteArrayList()
    override fun onProgress(progress: SyncProgress) {
        events.add(progress)
    }
}

/**
 * The story of issue 6 in Kotlin, against the real library and the in-process sandbox:
 * sync, read, search, the outbox offline and online, the errors an app acts on, cancel,
 * reads from many threads during a sync, close.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation::class)
class ProfileCacheTest {
    private val profiles = 2_000uL
    private lateinit var sandbox: TestSandbox
    private lateinit var dir: Path
    private lateinit var cache: ProfileCache
    private lateinit var report: SyncReport
    private val progress = Recorder()

    private fun config(db: String, baseUrl: String = sandbox.baseUrl()) = CacheConfig(
        dbPath = dir.resolve(db).toString(),
        baseUrl = baseUrl,
        requestTimeoutMs = 2_000uL,
        retryBaseDelayMs = 10uL,
        retryMaxDelayMs = 100uL,
        offlineTotalMs = 300uL,
        outboxBaseDelayMs = 200uL,
        outboxMaxDelayMs = 2_000uL,
    )

    private fun options(full: Boolean = false) =
        SyncOptions(full = full, reconcile = false, travelConfigs = null, concurrency = null, pageSize = null)

    private fun air(code: String, account: String) = LoyaltyMembership(
        uniqueId = "Frequent Flyer",
        vendorCode = code,
        vendorType = LoyaltyVendorType.Air,
        accountNo = account,
        status = "Senator",
        statusBenefits = null,
        pointTotal = Total.Number(120_500),
        segmentTotal = Total.Number(61),
        nextStatus = null,
        pointsUntilNextStatus = null,
        segmentsUntilNextStatus = null,
    )

    private fun logins(): List<String> = cache.list(ListFilter()).map { it.login }

    @BeforeAll
    fun start() {
        sandbox = TestSandbox.start(profiles, 42uL)
        dir = Files.createTempDirectory("profile-cache-kotlin")
        cache = ProfileCache.open(config("cache.db"), SandboxTokens(sandbox))
        report = runBlocking { cache.sync(options(), progress) }
    }

    @AfterAll
    fun stop() {
        cache.close()
        sandbox.close()
        dir.toFile().deleteRecursively()
    }

    @Test
    @Order(1)
    fun `a sync stores every profile and reports progress`() {
        assertEquals(profiles, report.profilesFetched)
        assertEquals(0uL, report.failed)
        assertTrue(progress.events.size >= 2, "progress events: ${progress.events.size}")
        assertEquals(SyncPhase.DONE, progress.events.last().phase)
        assertTrue(progress.events.any { it.phase == SyncPhase.FETCHING && it.profilesDone in 1uL until profiles })
        val status = cache.status()
        assertFalse(status.running)
        assertEquals(profiles, status.counts.profiles)
        assertNotNull(status.lastSuccessAt)
        assertNull(status.lastError)
    }

    @Test
    @Order(2)
    fun `a profile shows names with accents, a passport and a membership`() {
        val nonAscii = Regex("[^\\x00-\\x7F]")
        val found = logins().asSequence().mapNotNull { cache.profile(it) }.firstOrNull { p ->
            val g = p.profile.general
            nonAscii.containsMatchIn("${g?.firstName} ${g?.lastName}") &&
                p.profile.passports.isNotEmpty() &&
                (p.profile.air?.memberships?.isNotEmpty() ?: false)
        }
        assertNotNull(found, "some traveler has an accented name, a passport and an air membership")
        val p = found!!
        assertEquals(p.login, p.profile.loginId)
        assertFalse(p.profile.passports[0].number.isNullOrBlank())
        assertFalse(p.profile.air!!.memberships[0].vendorCode.isNullOrBlank())
        assertTrue(p.fetchedAt > 1_600_000_000_000L, "timestamps are epoch milliseconds")
        // The other lookups find the same traveler.
        p.uuid?.let { assertEquals(p.login, cache.profileByUuid(it)?.login) }
        p.syncId?.let { assertEquals(p.login, cache.profileBySyncId(it)?.login) }
        assertNull(cache.profile("nobody@nowhere.example"))
    }

    @Test
    @Order(3)
    fun `search finds travelers by a name prefix`() {
        val someone = cache.profile(logins()[7])!!.profile.general!!.lastName!!
        val prefix = someone.take(3)
        val hits = cache.search(prefix, 20u)
        assertTrue(hits.isNotEmpty(), "hits for $prefix")
        assertTrue(hits.zipWithNext().all { (a, b) -> a.score >= b.score }, "best first")
        val names = hits.mapNotNull { cache.profile(it.login)?.profile?.general }
        assertTrue(
            names.any { listOfNotNull(it.firstName, it.lastName, it.preferredName).any { n -> n.startsWith(prefix, ignoreCase = true) } },
            "a hit's name starts with $prefix",
        )
    }

    @Test
    @Order(4)
    fun `an update queued while the server is down stays pending, then is sent`() = runBlocking {
        val login = logins()[3]
        val events: MutableList<OutboxEvent> = CopyOnWriteArrayList()
        cache.setOutboxListener(object : OutboxListener {
            override fun onEvent(event: OutboxEvent) { events.add(event) }
        })
        sandbox.setDown(true)
        try {
            val id = cache.queueLoyaltyUpdate(login, air("LH", "992211334455"))
            val shown = cache.profile(login)!!
            assertTrue(shown.hasPending)
            assertEquals(UpdateState.PENDING, shown.pending.single { it.updateId == id }.state)
            val lh = shown.profile.air!!.memberships.single { it.vendorCode == "LH" }
            assertEquals("992211334455", lh.accountNo)
            val offline = cache.flushUpdates()
            assertEquals(1u, offline.pending)
            assertEquals(UpdateState.PENDING, cache.update(id)!!.state)
            assertTrue(cache.update(id)!!.attempts >= 1u)

            sandbox.setDown(false)
            val online = cache.kick()
            assertEquals(1u, online.sent)
            val sent = cache.update(id)!!
            assertEquals(UpdateState.SENT, sent.state)
            assertNotNull(sent.sentAt)
            assertTrue(events.any { it.updateId == id && it.to == UpdateState.SENT }, "the listener saw it sent")
            assertEquals(0uL, cache.outboxStatus().pending)
        } finally {
            sandbox.setDown(false)
            cache.setOutboxListener(null)
        }
    }

    @Test
    @Order(5)
    fun `a refused update ends failed with the server's reason`() = runBlocking {
        val login = logins()[4]
        // Two letters, so valid locally; the server knows no such airline.
        val id = cache.queueLoyaltyUpdate(login, air("ZZ", "1"))
        val report = cache.flushUpdates()
        assertEquals(1u, report.failed)
        val u = cache.update(id)!!
        assertEquals(UpdateState.FAILED, u.state)
        assertTrue(u.lastError!!.contains("unknown vendor code"), u.lastError)
        assertTrue(cache.discardUpdate(id))
    }

    @Test
    @Order(6)
    fun `invalid input names the field`() {
        val e = assertThrows<CacheException.InvalidInput> {
            cache.queueLoyaltyUpdate("  ", air("LH", "1"))
        }
        assertEquals("login", e.field)
        assertTrue(e.message!!.contains("login"), e.message)
        val noAccount = air("LH", "1").copy(accountNo = null)
        val e2 = assertThrows<CacheException.InvalidInput> { cache.queueLoyaltyUpdate(logins()[0], noAccount) }
        assertEquals("account_no", e2.field)
        val e3 = assertThrows<CacheException.InvalidInput> {
            ProfileCache.open(config("x.db").copy(pageSize = 500u), SandboxTokens(sandbox))
        }
        assertEquals("page_size", e3.field)
    }

    @Test
    @Order(7)
    fun `a bad token gives the unauthorized error`() = runBlocking {
        val tokens = SandboxTokens(sandbox, fixed = "not-a-token")
        ProfileCache.open(config("bad-token.db"), tokens).use { c ->
            val e = assertThrows<CacheException.Unauthorized> { runBlocking { c.sync(options(), null) } }
            assertTrue(e.status == 401.toUShort() || e.status == 403.toUShort(), "status ${e.status}")
            assertTrue(e.detail.isNotBlank())
            assertTrue(tokens.calls.get() >= 2, "refreshed once before giving up")
            assertFalse(e.message!!.contains("not-a-token"), "the token is never quoted")
        }
    }

    @Test
    @Order(8)
    fun `a token provider that throws gives the unauthorized error, not a crash`() = runBlocking {
        val throwing = object : TokenProvider {
            override fun accessToken(actingFor: String?, forceRefresh: Boolean): String =
                throw AppException.Failed("no signed-in user")
        }
        ProfileCache.open(config("throwing.db"), throwing).use { c ->
            val e = assertThrows<CacheException.Unauthorized> { runBlocking { c.refreshProfile(logins()[0]) } }
            assertNull(e.status)
        }
    }

    @Test
    @Order(8)
    fun `a token provider that cannot reach its server gives the offline error`() = runBlocking {
        val offline = object : TokenProvider {
            override fun accessToken(actingFor: String?, forceRefresh: Boolean): String =
                throw AppException.Offline("identity provider unreachable")
        }
        ProfileCache.open(config("offline-tokens.db"), offline).use { c ->
            val e = assertThrows<CacheException.Offline> { runBlocking { c.refreshProfile(logins()[0]) } }
            assertTrue(e.detail.contains("unreachable"), e.detail)
        }
    }

    @Test
    @Order(9)
    fun `the log sink gets the library's lines, filtered by level, without logins or tokens`() = runBlocking {
        val lines: MutableList<LogRecord> = CopyOnWriteArrayList()
        val sink = object : LogSink {
            override fun log(record: LogRecord) { lines.add(record) }
        }
        assertTrue(setLogSink(sink, LogLevel.DEBUG))
        try {
            val tokens = SandboxTokens(sandbox)
            ProfileCache.open(config("logged.db"), tokens).use { c ->
                c.sync(options(), null)
                c.queueLoyaltyUpdate(logins()[5], air("LH", "5544332211"))
                c.kick()
            }
            val messages = lines.map { it.message }
            assertTrue(messages.any { it.startsWith("sync started") }, messages.take(5).toString())
            assertTrue(messages.any { it.startsWith("sync finished") })
            assertTrue(lines.any { it.level == LogLevel.DEBUG })
            assertTrue(lines.all { it.target.startsWith("profile_cache") })
            assertTrue(tokens.issued.isNotEmpty())
            for (m in messages) {
                assertFalse(m.contains("@"), "a login in the log: $m")
                assertFalse(m.contains("5544332211"), "an account number in the log: $m")
                assertFalse(tokens.issued.any { m.contains(it) }, "a token in the log")
            }
            // Filtered on the Rust side: a clean sync logs nothing at WARN.
            assertTrue(setLogSink(sink, LogLevel.WARN))
            val before = lines.size
            ProfileCache.open(config("logged.db"), tokens).use { c -> c.sync(options(), null) }
            assertEquals(before, lines.size)
        } finally {
            setLogSink(null, LogLevel.INFO)
        }
    }

    @Test
    @Order(9)
    fun `a dead server gives the offline error, and reads keep working`() = runBlocking {
        // Port 9 (discard) on loopback: nothing listens, connections are refused.
        ProfileCache.open(config("cache.db", baseUrl = "http://127.0.0.1:9"), SandboxTokens(sandbox)).use { c ->
            val e = assertThrows<CacheException.Offline> { runBlocking { c.refreshProfile(logins()[0]) } }
            assertTrue(e.detail.contains("unreachable"), e.detail)
            assertNotNull(c.profile(logins()[0]), "the cache works offline")
        }
    }

    @Test
    @Order(10)
    fun `cancel stops a long sync`() = runBlocking {
        sandbox.setLatency("20")
        try {
            ProfileCache.open(config("cancelled.db"), SandboxTokens(sandbox)).use { c ->
                val listener = Recorder()
                val started = System.nanoTime()
                val job = async(Dispatchers.Default) { runCatching { c.sync(options(), listener) } }
                withTimeout(30_000) {
                    while (listener.events.none { it.profilesDone > 0uL }) delay(20)
                }
                assertTrue(c.status().running)
                c.cancel()
                val result = job.await()
                val e = result.exceptionOrNull()
                assertTrue(e is CacheException.Cancelled, "ended with $e")
                val seconds = (System.nanoTime() - started) / 1e9
                assertTrue(seconds < 30, "took $seconds s")
                val status = c.status()
                assertFalse(status.running)
                assertTrue(status.counts.profiles < profiles, "stopped early: ${status.counts.profiles}")
            }
        } finally {
            sandbox.setLatency(null)
        }
    }

    @Test
    @Order(11)
    fun `reads from several threads during a sync`() = runBlocking {
        val all = logins()
        val stop = AtomicBoolean(false)
        val reads = AtomicInteger()
        val failures: MutableList<Throwable> = Collections.synchronizedList(mutableListOf())
        val pool = Executors.newFixedThreadPool(4)
        repeat(4) { t ->
            pool.submit {
                var i = t
                while (!stop.get()) {
                    try {
                        val login = all[i % all.size]
                        if (cache.profile(login) == null) throw AssertionError("missing $login")
                        if (i % 5 == 0) cache.search(login.take(4), 5u)
                        if (i % 7 == 0) cache.status()
                        reads.incrementAndGet()
                    } catch (e: Throwable) {
                        failures.add(e)
                    }
                    i += 4
                }
            }
        }
        sandbox.mutateRandom(50u)
        val r = cache.sync(options(full = true), null)
        stop.set(true)
        pool.shutdown()
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS))
        assertEquals(emptyList<Throwable>(), failures.toList())
        // Every profile, plus those re-fetched because they changed while being crawled.
        assertTrue(r.profilesFetched >= profiles, "fetched ${r.profilesFetched}")
        assertEquals(profiles, cache.status().counts.profiles)
        assertTrue(reads.get() > 100, "reads during the sync: ${reads.get()}")
    }

    @Test
    @Order(12)
    fun `close ends the cache`() {
        val c = ProfileCache.open(config("cache.db"), SandboxTokens(sandbox))
        val login = logins()[1]
        c.use { assertNotNull(it.profile(login)) }
        // The Kotlin object is gone after close(); shutdown() keeps it and refuses calls.
        val d = ProfileCache.open(config("cache.db"), SandboxTokens(sandbox))
        d.use {
            it.shutdown()
            assertThrows<CacheException.Closed> { it.profile(login) }
            it.shutdown()
        }
    }
}
