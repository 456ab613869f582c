public import S3Protocol

/// The folder page: breadcrumb, the dataset panel (when the folder is one), copyable URLs,
/// folders then files, and paging both ways.
extension HTMLPages {
    /// A folder page. `bucket` is the name as addressed, `prefix` is empty or ends with `/`,
    /// `page` is one ListObjectsV2 page with delimiter `/` and prefix `prefix + find` (`find`:
    /// the text typed in the page's search form, empty for the whole folder).
    public static func browse(bucket: String, prefix: String, page: ListPage, trail: PageTrail,
                              dataset: Dataset?, context: Context, find: String = "") -> String {
        let folderHref = context.href(bucket: bucket, key: prefix)
        let segments = prefix.split(separator: "/", omittingEmptySubsequences: false).dropLast().map(String.init)
        let title = segments.last.map { $0 + "/" } ?? bucket
        var s = head(title: bucket + "/" + prefix, context: context)
        s += "<main>" + breadcrumb(bucket: bucket, segments: segments, context: context)
        s += "<h1>\(htmlEscape(title))</h1>"

        // The URLs of the folder, to copy: a dataset's without the trailing slash (what viewers and
        // zarr/n5 libraries want), a plain folder's with it (what `aws s3 ls` wants).
        var httpsURL = context.origin + folderHref
        var s3URL = "s3://" + bucket + "/" + prefix
        if dataset != nil {
            if httpsURL.hasSuffix("/") { httpsURL.removeLast() }
            if s3URL.hasSuffix("/") { s3URL.removeLast() }
        }
        if let dataset {
            let name = segments.last ?? bucket
            s += datasetPanel(dataset, url: httpsURL, name: name, viewers: context.viewers)
        }
        s += "<dl class=\"urls\">"
        s += urlRow(label: "S3", id: "u-s3", value: s3URL)
        s += urlRow(label: "HTTPS", id: "u-https", value: httpsURL)
        s += "</dl>"

        let objects = page.objects.filter { $0.key != prefix }  // a folder marker is the folder itself
        var counts: [String] = []
        if !page.commonPrefixes.isEmpty { counts.append(count(page.commonPrefixes.count, "folder")) }
        if !objects.isEmpty || page.commonPrefixes.isEmpty { counts.append(count(objects.count, "file")) }
        var summary = counts.joined(separator: " · ")
        if trail.number > 1 || page.isTruncated { summary += " on page \(trail.number)" }
        if page.isTruncated { summary += " · more on the next page" }
        if !find.isEmpty { summary = "Names starting with “\(htmlEscape(find))”: " + summary }
        // Finding pays off in folders larger than a glance; a small one stays uncluttered.
        if !find.isEmpty || trail.number > 1 || page.isTruncated || page.commonPrefixes.count + objects.count > 20 {
            s += findBar(folderHref: folderHref, find: find)
        }
        s += "<p class=\"summary\" id=\"summary\">\(summary)</p>"
        let pagerHTML = pager(page: page, trail: trail, folderHref: folderHref, find: find)
        s += pagerHTML.isEmpty ? "" : "<div class=\"pager-top\">" + pagerHTML + "</div>"

        // The script adds per-file copy buttons: the s3 URL is this prefix plus the name shown.
        s += "<table class=\"listing\" data-s3-prefix=\"\(htmlEscape("s3://" + bucket + "/" + prefix))\">"
        // Without the script the headers are plain text and the rows stay in S3 order (by name);
        // the script turns them into sort buttons (x2s3.js).
        s += "<thead><tr><th class=\"name\" data-sort=\"name\">Name</th><th class=\"size\" data-sort=\"size\">Size</th>"
        s += "<th class=\"date\" data-sort=\"date\">Last modified (UTC)</th><th class=\"dl\"><span class=\"sr\">Raw and download</span></th></tr></thead><tbody>"
        let parent = segments.isEmpty ? context.home : context.href(bucket: bucket, key: segments.dropLast().map { $0 + "/" }.joined())
        if context.links(parent) {
            s += "<tr class=\"up\"><td class=\"name\" colspan=\"4\"><a href=\"\(htmlEscape(parent))\">\(icon("up"))"
            s += "<span>..</span></a> <span class=\"muted\">\(segments.isEmpty ? "all buckets" : "parent folder")</span></td></tr>"
        }
        for p in page.commonPrefixes {
            let name = String(p.dropFirst(prefix.count))
            s += "<tr class=\"dir\"><td class=\"name\">\(icon("folder"))<a href=\"\(htmlEscape(context.href(bucket: bucket, key: p)))\">"
            s += "\(htmlEscape(name))</a>"
            if let hint = Datasets.hint(folderName: String(name.dropLast())) { s += " <span class=\"badge\">\(hint)</span>" }
            s += "</td><td class=\"size\"></td><td class=\"date\"></td><td class=\"dl\"></td></tr>"
        }
        for o in objects {
            let name = String(o.key.dropFirst(prefix.count))
            let href = htmlEscape(context.href(bucket: bucket, key: o.key))
            // Names a preview can show lead to it; the raw object stays one click away.
            let preview = Preview.linksToPreview(name: MediaType.lastSegment(o.key))
            s += "<tr class=\"file\" data-size=\"\(o.size)\" data-date=\"\(o.lastModified.seconds)\"><td class=\"name\">\(icon("file"))"
            s += "<a href=\"\(preview ? href + "?preview" : href)\">\(htmlEscape(name))</a></td>"
            s += "<td class=\"size\" title=\"\(grouped(o.size)) bytes\">\(humanSize(o.size))</td>"
            s += "<td class=\"date\"><time datetime=\"\(HTTPDate.iso8601(o.lastModified.seconds))\">\(shortDate(o.lastModified.seconds))</time></td><td class=\"dl\">"
            if preview {
                s += "<a class=\"raw\" href=\"\(href)\" title=\"Raw\" aria-label=\"Raw \(htmlEscape(name))\">\(icon("raw"))</a>"
            }
            s += "<a href=\"\(href)\" download title=\"Download\" aria-label=\"Download \(htmlEscape(name))\">\(icon("down"))</a></td></tr>"
        }
        if page.commonPrefixes.isEmpty && objects.isEmpty {
            let empty = find.isEmpty ? "This folder is empty." : "No names here start with “\(htmlEscape(find))”."
            s += "<tr class=\"empty\"><td colspan=\"4\">\(empty)</td></tr>"
        }
        s += "</tbody></table>"
        s += pagerHTML

        var xml = context.bucketRoot(bucket) + "?list-type=2&delimiter=%2F&prefix=" + urlSegment(prefix + find)
        if let token = trail.token { xml += "&continuation-token=" + urlSegment(token) }
        return s + "</main>" + foot(context: context, extra: "<a href=\"\(htmlEscape(xml))\">this page as S3 XML</a>")
    }

    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    /// `Buckets / bucket / a / b`: every level but the current one is a link.
    static func breadcrumb(bucket: String, segments: [String], context: Context) -> String {
        // Through a capability link, levels above the granted prefix are shown but not linked.
        func crumb(_ href: String, _ text: String) -> String {
            context.links(href) ? "<a href=\"\(htmlEscape(href))\">\(htmlEscape(text))</a>" : "<span>\(htmlEscape(text))</span>"
        }
        var s = "<nav class=\"crumbs\" aria-label=\"Breadcrumb\">" + (context.floor == nil ? crumb(context.home, "Buckets") : "<span>Buckets</span>")
        let sep = "<span class=\"sep\">/</span>"
        if segments.isEmpty {
            return s + sep + "<span aria-current=\"page\">\(htmlEscape(bucket))</span></nav>"
        }
        s += sep + crumb(context.bucketRoot(bucket), bucket)
        var acc = ""
        for (i, segment) in segments.enumerated() {
            acc += segment + "/"
            s += sep
            if i == segments.count - 1 {
                s += "<span aria-current=\"page\">\(htmlEscape(segment))</span>"
            } else {
                s += crumb(context.href(bucket: bucket, key: acc), segment)
            }
        }
        return s + "</nav>"
    }

    /// A copyable URL: selectable text that works without JavaScript, plus a copy button the
    /// script reveals.
    static func urlRow(label: String, id: String, value: String) -> String {
        "<div><dt>\(label)</dt><dd><code id=\"\(id)\">\(htmlEscape(value))</code>"
            + "<button type=\"button\" class=\"copy\" data-copy=\"\(id)\" hidden>Copy</button></dd></div>"
    }

    static func datasetPanel(_ d: Dataset, url: String, name: String, viewers: ViewerSettings) -> String {
        var s = "<section class=\"dataset\" aria-label=\"Dataset\"><div class=\"ds-title\">\(icon("data"))"
        s += "<strong class=\"ds-kind\">\(htmlEscape(d.label))</strong></div>"
        if !d.facts.isEmpty {
            s += "<dl class=\"facts\">"
            for f in d.facts { s += "<div><dt>\(htmlEscape(f.name))</dt><dd>\(htmlEscape(f.value))</dd></div>" }
            s += "</dl>"
        }
        var actions: [String] = []
        if d.neuroglancerCanOpen {
            let ng = ViewerLinks.neuroglancer(dataset: d, url: url, name: name, viewers: viewers)
            actions.append("<a class=\"btn primary ng\" href=\"\(htmlEscape(ng))\" target=\"_blank\" rel=\"noopener\">Open in Neuroglancer</a>")
        }
        if d.isOME {
            actions.append("<a class=\"btn vizarr\" href=\"\(htmlEscape(ViewerLinks.vizarr(url: url, viewers: viewers)))\" target=\"_blank\" rel=\"noopener\">Open in vizarr</a>")
        }
        if !actions.isEmpty { s += "<p class=\"actions\">" + actions.joined() + "</p>" }
        return s + "</section>"
    }

    /// The search form (a GET of the folder URL with `find`, no script needed) and the filter
    /// box the script reveals, which hides the rows of this page whose names do not match.
    static func findBar(folderHref: String, find: String) -> String {
        var s = "<div class=\"find-bar\"><form class=\"find\" role=\"search\" method=\"get\" action=\"\(htmlEscape(folderHref))\">"
        s += "<label for=\"find\">Find names starting with</label>"
        s += "<input type=\"search\" id=\"find\" name=\"find\" value=\"\(htmlEscape(find))\" autocomplete=\"off\" spellcheck=\"false\">"
        s += "<button type=\"submit\" class=\"btn\">Find</button>"
        if !find.isEmpty { s += "<a class=\"btn clear\" href=\"\(htmlEscape(folderHref))\">Clear</a>" }
        s += "</form><div class=\"filter\" hidden><label for=\"filter\">Filter this page</label>"
        s += "<input type=\"search\" id=\"filter\" autocomplete=\"off\" spellcheck=\"false\" aria-controls=\"summary\">"
        return s + "</div></div>"
    }

    /// Previous / first / next, built from the trail carried in the URL; a search's `find`
    /// goes along on every link.
    static func pager(page: ListPage, trail: PageTrail, folderHref: String, find: String = "") -> String {
        let next = page.isTruncated ? page.nextContinuationToken : nil
        guard trail.number > 1 || next != nil else { return "" }
        let findQuery = find.isEmpty ? "" : "find=" + urlSegment(find)
        func withFind(_ q: String) -> String {
            guard !findQuery.isEmpty else { return q }
            return q.isEmpty ? "?" + findQuery : q + "&" + findQuery
        }
        var s = "<nav class=\"pager\" aria-label=\"Pages\">"
        if let q = trail.previousQuery {
            s += "<a class=\"btn prev\" rel=\"prev\" href=\"\(htmlEscape(folderHref + withFind(q)))\">← Previous</a>"
        } else {
            s += "<span class=\"btn disabled\">← Previous</span>"
        }
        if trail.number > 2 { s += "<a class=\"btn first\" href=\"\(htmlEscape(folderHref + withFind("")))\">First page</a>" }
        s += "<span class=\"pageno\">Page \(trail.number)</span>"
        if let next {
            let room = 7600 - folderHref.utf8.count - urlSegment(next).utf8.count - findQuery.utf8.count
            let q = trail.nextQuery(nextToken: next, budget: max(0, min(PageTrail.defaultBudget, room)))
            s += "<a class=\"btn next\" rel=\"next\" href=\"\(htmlEscape(folderHref + withFind(q)))\">Next →</a>"
        } else {
            s += "<span class=\"btn disabled\">Next →</span>"
        }
        return s + "</nav>"
    }
}
