import Client

/// An object of a list endpoint, which box serves newest first by `creationTime` (1-second resolution).
protocol ListedObject: Sendable {
    var id: String { get }
    var epochSeconds: Int64 { get }
}

extension Event: ListedObject {}
extension Client.Notification: ListedObject {}
extension CloudronTask: ListedObject {}

/// One answered page: its objects, and its elements that are no usable object, which keep their
/// place in the server's order (a page is short only if all of them together are fewer than asked).
struct ListPage<Item: ListedObject>: Sendable {
    var items: [Item]
    /// Each with a time: its own `creationTime` when readable, else that of the object above it in the
    /// newest-first order (or below it, at the top of the page), so that a walk that reaches that time
    /// again meets the element again.
    var malformed: [MalformedObject]

    /// `malformed` as the page answered them (their `index` counts every element of the page).
    init(items: [Item], malformed: [MalformedObject] = []) {
        self.items = items
        self.malformed = malformed.map { element in
            var placed = element
            if placed.epochSeconds == nil {
                // Objects fill the positions that malformed elements leave free, in order.
                let above = element.index - malformed.filter { $0.index < element.index }.count - 1
                placed.epochSeconds = items.indices.contains(above) ? items[above].epochSeconds
                    : items.indices.contains(above + 1) ? items[above + 1].epochSeconds : nil
            }
            return placed
        }
    }

    var count: Int { items.count + malformed.count }
    /// Whether the first or the last element is malformed: its second is unknown there.
    var startsMalformed: Bool { malformed.contains { $0.index == 0 } }
    var endsMalformed: Bool { malformed.contains { $0.index == count - 1 } }
}

/// Reads the pages of one list endpoint for a sync. It is the only code that asks a list endpoint for a
/// page, so it is where a run's list requests are counted and where a server that silently caps
/// `per_page` is found out; the walks above it decide only *which* pages to read.
struct PageReader<Item: ListedObject> {
    typealias Fetch = @Sendable (_ page: Int, _ perPage: Int) async throws -> ListPage<Item>

    let stream: ObjectKind
    private let fetch: Fetch
    /// List requests sent, prefetches included.
    private(set) var requests = 0
    /// The most rows the server answers per request, once a capped page showed it.
    private(set) var servedPageSize: Int?
    private var prefetched: (page: Int, perPage: Int, answer: Task<ListPage<Item>, any Error>)?

    init(stream: ObjectKind, fetch: @escaping Fetch) {
        self.stream = stream
        self.fetch = fetch
    }

    /// `asked`, or the server's cap when it is known to be smaller: offsets computed with a size the
    /// server does not serve would skip rows.
    func pageSize(_ asked: Int) -> Int {
        min(asked, servedPageSize ?? asked)
    }

    /// One page; the prefetched answer when it is that page (a prefetch of another page stays pending:
    /// a tie group is read whole between a page and the next).
    mutating func page(_ page: Int, perPage: Int) async throws -> ListPage<Item> {
        if let pending = prefetched, pending.page == page, pending.perPage == perPage {
            prefetched = nil
            // The prefetch is a task of its own: a cancelled walk cancels it too, aborting its request.
            return try await withTaskCancellationHandler { try await pending.answer.value } onCancel: { pending.answer.cancel() }
        }
        requests += 1
        return try await fetch(page, perPage)
    }

    /// Asks for a page that the caller will read next, so that the server's answer (and its decoding,
    /// on the client's thread) overlaps the caller's work on the current one. The caller prefetches only
    /// a page it is sure to read, so the requests made are the same as without it.
    mutating func prefetch(_ page: Int, perPage: Int) {
        cancelPrefetch()
        requests += 1
        let fetch = self.fetch
        prefetched = (page, perPage, Task { try await fetch(page, perPage) })
    }

    mutating func cancelPrefetch() {
        prefetched?.answer.cancel()
        prefetched = nil
    }

    /// Checks that a page shorter than asked is the end of the list. A server that silently caps
    /// `per_page` (box has no maximum, but a proxy or a later version may) answers a short page although
    /// more rows follow, which looks exactly like the end: the next page tells. One request, made only
    /// where a read would otherwise end. Throws `pageSizeCapped` after remembering the served size.
    mutating func confirmEnd(_ answer: ListPage<Item>, page: Int, perPage: Int) async throws {
        guard answer.count > 0, answer.count < perPage else { return }
        if try await self.page(page + 1, perPage: perPage).count > 0 {
            servedPageSize = min(answer.count, servedPageSize ?? .max)
            throw SyncError.pageSizeCapped(stream: stream, served: answer.count, asked: perPage)
        }
    }

    /// Reads every object of one second in a single request, whose window is chosen to contain the
    /// whole group with an object of another second (or the list's start or end) on each side. One
    /// request is one consistent query on the server, so the group cannot shuffle across it.
    mutating func readWholeSecond(_ second: Int64, nearOffset offset: Int) async throws -> ListPage<Item> {
        var margin = 32
        for _ in 0..<8 {
            let wanted = (lo: max(0, offset - margin), hi: offset + margin)
            let window = PageWindow(covering: wanted.lo, wanted.hi, maxPerPage: servedPageSize ?? .max)
            let answer = try await page(window.page, perPage: window.perPage)
            let items = answer.items
            // Malformed elements need no care here: the order puts them between their neighbours.
            let openAbove = window.page == 1 || (items.first.map { $0.epochSeconds > second } ?? false)
            // A short answer is the list's end, unless it is only as long as the server's known cap.
            let endOfList = answer.count < window.perPage && answer.count < (servedPageSize ?? Int.max)
            let openBelow = endOfList || (items.last.map { $0.epochSeconds < second } ?? false)
            if openAbove && openBelow {
                // A malformed element may be one of the group: all of the window's are kept (the
                // quarantine knows those it has seen).
                return ListPage(items: items.filter { $0.epochSeconds == second }, malformed: answer.malformed)
            }
            // A window the server's cap made smaller than asked cannot grow any further.
            if window.perPage < wanted.hi - wanted.lo + 1 { break }
            margin *= 4
        }
        throw SyncError.tieGroupUnreadable(stream: stream, second: second)
    }
}

extension PageReader where Item == Event {
    static func events(_ client: CloudronClient) -> Self {
        Self(stream: .events) {
            let page = try await client.eventPage(page: $0, perPage: $1)
            return ListPage(items: page.events, malformed: page.malformed)
        }
    }
}

extension PageReader where Item == Client.Notification {
    static func notifications(_ client: CloudronClient) -> Self {
        Self(stream: .notifications) {
            let page = try await client.notificationPage(page: $0, perPage: $1)
            return ListPage(items: page.notifications, malformed: page.malformed)
        }
    }
}

extension PageReader where Item == CloudronTask {
    static func tasks(_ client: CloudronClient) -> Self {
        Self(stream: .tasks) {
            let page = try await client.taskPage(page: $0, perPage: $1)
            return ListPage(items: page.tasks, malformed: page.malformed)
        }
    }
}

/// One offset page (`page`, `perPage`) chosen to hold given offsets in one request.
struct PageWindow: Equatable {
    var page: Int
    var perPage: Int

    /// The smallest page that holds the offsets `lo...hi`. When that needs more than `maxPerPage` rows
    /// (a server that caps `per_page` would silently answer fewer, from another offset), the page of at
    /// most `maxPerPage` rows that leaves the most room on both sides of the middle of `lo...hi`.
    init(covering lo: Int, _ hi: Int, maxPerPage: Int = .max) {
        var perPage = max(1, hi - lo + 1)
        while lo / perPage != hi / perPage { perPage += 1 }
        guard perPage > maxPerPage else {
            self.init(page: lo / perPage + 1, perPage: perPage)
            return
        }
        let middle = lo + (hi - lo) / 2
        var best = (room: -1, page: 1, perPage: maxPerPage)
        for size in max(1, maxPerPage / 2)...max(1, maxPerPage) {
            let start = middle / size * size
            let room = min(middle - start, start + size - 1 - middle)
            if room > best.room { best = (room, middle / size + 1, size) }
        }
        self.init(page: best.page, perPage: best.perPage)
    }

    private init(page: Int, perPage: Int) {
        self.page = page
        self.perPage = perPage
    }
}
