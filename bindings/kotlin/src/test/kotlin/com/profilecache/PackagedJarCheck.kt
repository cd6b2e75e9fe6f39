package com.profilecache

import kotlinx.coroutines.runBlocking
import java.io.File
import java.nio.file.Files
import java.util.Collections
import java.util.logging.Handler
import java.util.logging.Level
import java.util.logging.LogRecord
import java.util.logging.Logger
import java.util.logging.SimpleFormatter
import kotlin.system.exitProcess

/**
 * Run by package.sh (not a JUnit test) with only the packaged jar, its runtime dependencies
 * and the test classes on the classpath, and no jna.library.path: shows that JNA loads the
 * native library bundled in the jar, as in an app that depends on the jar. Opens a cache on
 * a temporary file and syncs a few profiles from the sandbox (the tokio runtime, a foreign
 * callback and SQLite of the stripped library), and checks which file the process mapped.
 */
fun main() {
    val resource = "linux-x86-64/libprofile_cache.so"
    fun fail(why: String): Nothing {
        System.err.println("packaged jar check FAILED: $why")
        exitProcess(1)
    }
    if (System.getProperty("jna.library.path") != null) fail("jna.library.path is set")
    val copies = ClassLoader.getSystemClassLoader().getResources(resource).toList()
    if (copies.size != 1 || copies[0].protocol != "jar") {
        fail("expected exactly one $resource, inside the jar; found $copies")
    }

    // JNA says where it found the library (jna.debug_load is read when JNA loads).
    System.setProperty("jna.debug_load", "true")
    val jnaSaid: MutableList<String> = Collections.synchronizedList(mutableListOf())
    val formatter = SimpleFormatter()
    val loggers = listOf("com.sun.jna.Native", "com.sun.jna.NativeLibrary").map { Logger.getLogger(it) }
    for (log in loggers) {
        log.level = Level.ALL
        log.useParentHandlers = false
        log.addHandler(object : Handler() {
            override fun publish(record: LogRecord) {
                jnaSaid += formatter.formatMessage(record)
            }
            override fun flush() {}
            override fun close() {}
        })
    }

    val dir = Files.createTempDirectory("profile-cache-jar-check")
    try {
        TestSandbox.start(20uL, 1uL).use { sandbox ->
            val tokens = object : TokenProvider {
                override fun accessToken(actingFor: String?, forceRefresh: Boolean) = sandbox.issueToken(null)
            }
            val config = CacheConfig(dbPath = dir.resolve("check.db").toString(), baseUrl = sandbox.baseUrl())
            ProfileCache.open(config, tokens).use { cache ->
                val report = runBlocking {
                    cache.sync(SyncOptions(full = false, reconcile = false, travelConfigs = null, concurrency = null, pageSize = null), null)
                }
                if (report.profilesFetched != 20uL) fail("synced ${report.profilesFetched} profiles, not 20")
                val login = cache.list(ListFilter()).first().login
                if (cache.profile(login)?.login != login) fail("no profile for a synced login")
                if (cache.profile("nobody@nowhere.example") != null) fail("a profile for an unknown login")
            }
        }
    } finally {
        dir.toFile().deleteRecursively()
    }

    // The mapped file is JNA's extracted copy of the jar's resource (a temporary file), not
    // a libprofile_cache.so somewhere on disk.
    val mapped = File("/proc/self/maps").readLines().map { it.substringAfter('/', "") }
        .filter { it.isNotEmpty() }.map { "/$it" }.toSet()
    val onDisk = mapped.filter { it.contains("libprofile_cache") }
    if (onDisk.isNotEmpty()) fail("the library was loaded from a file on disk: $onDisk")
    val said = jnaSaid.toList()
    val found = said.indexOfFirst { it.contains("jar:") && it.contains("!/$resource") }
    if (found < 0) fail("JNA did not report loading $resource from the jar; it said: $said")
    // JNA copies a jar's library to a temporary file and loads that.
    val loaded = said.drop(found).firstOrNull { it.startsWith("Found library 'profile_cache' at") }
        ?: fail("JNA did not report which file it loaded; it said: $said")
    println("packaged jar check OK (no jna.library.path):")
    println("  JNA: ${said[found].trim()}")
    println("  JNA: ${loaded.trim()}")
    println("  opened a cache on a temporary file, synced 20 profiles from the sandbox, read one")
}
