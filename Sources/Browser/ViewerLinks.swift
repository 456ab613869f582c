import S3Protocol

/// Links that open a dataset on this server in a web viewer. The viewers run in the
/// browser and fetch the data from x2s3 directly (hence CORS on every response). Their
/// deployments come from the config (`viewers:`, `ViewerSettings`).
public enum ViewerLinks {
    /// Google's public Neuroglancer deployment (the default); the state follows `#!` as URL-encoded JSON.
    public static let neuroglancerBase = ViewerSettings().neuroglancer + "#!"
    /// vizarr's public deployment (the default), for OME-Zarr images and plates.
    public static let vizarrBase = ViewerSettings().vizarr + "?source="

    /// The Neuroglancer viewer state with one layer (`source` like `zarr2://https://…`).
    public static func neuroglancerState(source: String, name: String, layerType: String) -> String {
        let n = JSON.quote(name)
        return "{\"layers\":[{\"type\":\(JSON.quote(layerType)),\"source\":\(JSON.quote(source)),\"name\":\(n)}],"
            + "\"selectedLayer\":{\"layer\":\(n),\"visible\":true},\"layout\":\"4panel\"}"
    }

    /// The Neuroglancer URL for a dataset at `url` (the folder's https URL, no trailing `/`).
    public static func neuroglancer(dataset: Dataset, url: String, name: String, viewers: ViewerSettings = ViewerSettings()) -> String {
        let state = neuroglancerState(source: dataset.neuroglancerScheme + "://" + url, name: name, layerType: dataset.layerType)
        return viewers.neuroglancer + "#!" + HTMLPages.urlSegment(state)
    }

    /// The vizarr URL for an OME-Zarr at `url`.
    public static func vizarr(url: String, viewers: ViewerSettings = ViewerSettings()) -> String {
        viewers.vizarr + "?source=" + HTMLPages.urlSegment(url)
    }
}
