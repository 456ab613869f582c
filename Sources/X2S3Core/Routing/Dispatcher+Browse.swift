/// The HTML folder pages for people (content-negotiated with the S3 XML on the same URLs).
extension Dispatcher {
    mutating func browse(target: Target, bucket: String, prefix: String, request: S3Request, routed: RoutedRequest) throws(S3Error) -> Response {
        var query = ListQuery(version: .v2)
        query.prefix = prefix
        query.delimiter = "/"
        query.maxKeys = 200
        if let token = request.queryValue("continuation-token") ?? nil, !token.isEmpty { query.continuationToken = token }
        let page = try backend(for: target).list(query)
        let html = HTMLPages.browse(bucket: bucket, prefix: prefix, page: page, context: pageContext(request, routed),
                                    previousToken: request.queryValue("continuation-token") ?? nil)
        return Response(status: 200, contentType: "text/html; charset=utf-8", body: Array(html.utf8))
    }

    func pageContext(_ request: S3Request, _ routed: RoutedRequest) -> HTMLPages.Context {
        HTMLPages.Context(scheme: request.scheme, host: request.host ?? "localhost", virtualHost: routed.virtualHost,
                          basePath: config.baseURL?.path ?? "/", baseURL: config.baseURL?.string)
    }
}
