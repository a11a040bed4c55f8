import CCurl
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `curl_global_init` must run once per process before any easy handle exists.
private let curlGlobalInit: Void = {
    _ = curl_global_init(3) // CURL_GLOBAL_ALL; the macro does not import
}()

/// What one HTTP exchange produced, before any interpretation.
struct CurlOutcome: Sendable {
    var curlCode: Int
    var curlMessage: String
    var status: Int
    var body: [UInt8]
    var contentType: String?
    var redirectURL: String?
    var retryAfter: Double?
    var exceededCap: Bool
    /// errno of the failed connect, e.g. ECONNREFUSED (libcurl's message wording varies by version).
    var osErrno: Int
    /// The answer's Content-Length, or -1 when it sent none (a chunked or connection-delimited body).
    var declaredLength: Int64 = -1
    /// Body bytes received as sent (before any Content-Encoding is undone, as Content-Length counts them).
    var receivedLength: Int64 = 0

    /// Whether the body is known to have arrived whole: its length matches the Content-Length the server
    /// declared. Without one, a body cut by the network and a complete one look the same.
    var isComplete: Bool { curlCode == 0 && declaredLength >= 0 && receivedLength == declaredLength }
}

/// Receives the body from libcurl's write callback and enforces the size cap even when the server
/// sends no Content-Length (CURLOPT_MAXFILESIZE alone only checks the header).
private final class ResponseSink {
    var bytes: [UInt8] = []
    let limit: Int
    var exceeded = false
    init(limit: Int) { self.limit = limit }
}

private let writeToSink: ccurl_write_callback = { pointer, size, count, userdata in
    guard let userdata else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(userdata).takeUnretainedValue()
    let total = size * count
    guard sink.bytes.count + total <= sink.limit else {
        sink.exceeded = true
        return 0 // makes curl fail with CURLE_WRITE_ERROR
    }
    if let pointer, total > 0 {
        pointer.withMemoryRebound(to: UInt8.self, capacity: total) {
            sink.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: total))
        }
    }
    return total
}

/// Set when the task that sent a request is cancelled (`sync` interrupted by SIGINT or SIGTERM): libcurl
/// asks the progress callback at least once a second, also while it waits for the server, and a transfer
/// it is told to abort ends at once (CURLE_ABORTED_BY_CALLBACK) instead of running to its timeout.
final class RequestAbort: @unchecked Sendable {
    private let raised = Locked(false)
    var isRaised: Bool { raised.withLock { $0 } }
    func raise() { raised.withLock { $0 = true } }
}

private let abortIfRaised: ccurl_xferinfo_callback = { clientp, _, _, _, _ in
    guard let clientp else { return 0 }
    return Unmanaged<RequestAbort>.fromOpaque(clientp).takeUnretainedValue().isRaised ? 1 : 0
}

/// One libcurl easy handle, reused for every request of a client so that connections are kept, and
/// the serial queue that is the only place it is touched. libcurl blocks; the queue keeps that off
/// Swift's cooperative pool (two threads here), where an in-process simulator must keep answering.
final class CurlConnection: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer
    private let queue: DispatchQueue
    private var headers: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let maxResponseBytes: Int

    init(configuration: ClientConfiguration, bearer: String?) throws {
        if let failure = ccurl_load() { throw ClientError.libcurlUnavailable(reason: String(cString: failure)) }
        _ = curlGlobalInit
        guard let handle = curl_easy_init() else {
            throw ClientError.invalidConfiguration("libcurl could not create a handle (out of memory?)")
        }
        self.handle = handle
        queue = DispatchQueue(label: "cloudron-audit.client.curl")
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        maxResponseBytes = configuration.maxResponseBytes

        var list: UnsafeMutablePointer<curl_slist>?
        list = curl_slist_append(list, "Accept: application/json")
        if let bearer { list = curl_slist_append(list, "Authorization: Bearer \(bearer)") }
        headers = list

        var failures: [String] = []
        func set(_ option: CURLoption, _ value: Int, _ name: String) {
            if ccurl_setopt_long(handle, option, value) != CURLE_OK { failures.append(name) }
        }
        func set(_ option: CURLoption, _ value: String, _ name: String) {
            if ccurl_setopt_string(handle, option, value) != CURLE_OK { failures.append(name) }
        }
        set(CURLOPT_NOSIGNAL, 1, "NOSIGNAL")
        set(CURLOPT_PROTOCOLS_STR, "http,https", "PROTOCOLS_STR")
        set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https", "REDIR_PROTOCOLS_STR")
        set(CURLOPT_FOLLOWLOCATION, 0, "FOLLOWLOCATION")
        set(CURLOPT_SSL_VERIFYPEER, 1, "SSL_VERIFYPEER")
        set(CURLOPT_SSL_VERIFYHOST, 2, "SSL_VERIFYHOST")
        set(CURLOPT_CONNECTTIMEOUT_MS, Int(configuration.connectTimeout * 1000), "CONNECTTIMEOUT_MS")
        set(CURLOPT_TIMEOUT_MS, Int(configuration.requestTimeout * 1000), "TIMEOUT_MS")
        set(CURLOPT_HTTPGET, 1, "HTTPGET")
        set(CURLOPT_USERAGENT, "cloudron-audit/\(CloudronAuditVersion.current)", "USERAGENT")
        set(CURLOPT_ACCEPT_ENCODING, "", "ACCEPT_ENCODING")
        set(CURLOPT_NOPROXY, Self.noProxy(inherited: getenv("no_proxy") ?? getenv("NO_PROXY")), "NOPROXY")
        if ccurl_setopt_offt(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(configuration.maxResponseBytes)) != CURLE_OK {
            failures.append("MAXFILESIZE_LARGE")
        }
        if let caFile = configuration.caFile { set(CURLOPT_CAINFO, caFile, "CAINFO") }
        if let pinned = configuration.pinnedPublicKey { set(CURLOPT_PINNEDPUBLICKEY, pinned, "PINNEDPUBLICKEY") }
        if ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, list) != CURLE_OK { failures.append("HTTPHEADER") }
        if ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer)) != CURLE_OK {
            failures.append("ERRORBUFFER")
        }
        if ccurl_setopt_write_function(handle, CURLOPT_WRITEFUNCTION, writeToSink) != CURLE_OK {
            failures.append("WRITEFUNCTION")
        }
        if ccurl_setopt_xferinfo_function(handle, CURLOPT_XFERINFOFUNCTION, abortIfRaised) != CURLE_OK {
            failures.append("XFERINFOFUNCTION")
        }
        set(CURLOPT_NOPROGRESS, 0, "NOPROGRESS")
        guard failures.isEmpty else {
            curl_easy_cleanup(handle)
            curl_slist_free_all(list)
            errorBuffer.deallocate()
            throw ClientError.invalidConfiguration(
                "this libcurl rejects options \(failures.joined(separator: ", ")) — libcurl 7.85 or newer is needed")
        }
    }

    /// Loopback never goes through a proxy: an `http_proxy`/`ALL_PROXY` in the environment would
    /// otherwise receive a local server's traffic and its token. CURLOPT_NOPROXY replaces the
    /// environment's `no_proxy` (read as libcurl reads it), so that list is kept in front.
    static func noProxy(inherited: UnsafeMutablePointer<CChar>?) -> String {
        let loopback = "localhost,127.0.0.0/8,::1"
        let list = inherited.map { String(cString: $0) }?.trimmingWhitespace() ?? ""
        if list.isEmpty { return loopback }
        return list == "*" ? list : list + "," + loopback
    }

    deinit {
        curl_easy_cleanup(handle)
        curl_slist_free_all(headers)
        errorBuffer.deallocate()
    }

    /// libcurl's code for a transfer its progress callback aborted: the request's task was cancelled.
    static let abortedCode = Int(CURLE_ABORTED_BY_CALLBACK.rawValue)

    /// Performs one GET on the connection's queue. Cancelling the calling task aborts it (also before it
    /// starts): the outcome then has `abortedCode`.
    func get(_ url: String) async -> CurlOutcome {
        let abort = RequestAbort()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                queue.async {
                    continuation.resume(returning: self.performGet(url, abort: abort))
                }
            }
        } onCancel: {
            abort.raise()
        }
    }

    private func performGet(_ url: String, abort: RequestAbort) -> CurlOutcome {
        if abort.isRaised {
            return CurlOutcome(curlCode: Self.abortedCode, curlMessage: "cancelled", status: 0, body: [], contentType: nil,
                               redirectURL: nil, retryAfter: nil, exceededCap: false, osErrno: 0)
        }
        let sink = ResponseSink(limit: maxResponseBytes)
        let unmanaged = Unmanaged.passRetained(sink)
        defer { unmanaged.release() }
        let abortData = Unmanaged.passRetained(abort)
        defer { abortData.release() }
        errorBuffer[0] = 0
        _ = ccurl_setopt_string(handle, CURLOPT_URL, url)
        _ = ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, unmanaged.toOpaque())
        _ = ccurl_setopt_pointer(handle, CURLOPT_XFERINFODATA, abortData.toOpaque())
        let code = curl_easy_perform(handle)
        _ = ccurl_setopt_pointer(handle, CURLOPT_XFERINFODATA, nil)

        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var contentType: UnsafeMutablePointer<CChar>?
        _ = ccurl_getinfo_string(handle, CURLINFO_CONTENT_TYPE, &contentType)
        var redirect: UnsafeMutablePointer<CChar>?
        _ = ccurl_getinfo_string(handle, CURLINFO_REDIRECT_URL, &redirect)
        var osErrno = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_OS_ERRNO, &osErrno)
        var retryAfter: curl_off_t = 0
        _ = ccurl_getinfo_offt(handle, CURLINFO_RETRY_AFTER, &retryAfter)
        var declaredLength: curl_off_t = -1
        _ = ccurl_getinfo_offt(handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &declaredLength)
        var receivedLength: curl_off_t = 0
        _ = ccurl_getinfo_offt(handle, CURLINFO_SIZE_DOWNLOAD_T, &receivedLength)
        _ = ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, nil)

        var message = String(cString: errorBuffer)
        if message.isEmpty { message = String(cString: curl_easy_strerror(code)) }
        return CurlOutcome(curlCode: Int(code.rawValue), curlMessage: message, status: status, body: sink.bytes,
                           contentType: contentType.map { String(cString: $0) },
                           redirectURL: redirect.map { String(cString: $0) },
                           retryAfter: retryAfter > 0 ? Double(retryAfter) : nil, exceededCap: sink.exceeded, osErrno: osErrno,
                           declaredLength: Int64(declaredLength), receivedLength: Int64(receivedLength))
    }
}
