/// Links that open a dataset on this server in a web viewer. The viewers run in the
/// browser and fetch the data from x2s3 directly (hence CORS on every response).
public enum ViewerLinks {
    /// Google's public Neuroglancer deployment; the state follows `#!` as URL-encoded JSON.
    public static let neuroglancerBase = "https://neuroglancer-demo.appspot.com/#!"
    /// vizarr, for OME-Zarr images and plates.
    public static let vizarrBase = "https://hms-dbmi.github.io/vizarr/?source="

    /// The Neuroglancer viewer state with one layer (`source` like `zarr2://https://…`).
    public static func neuroglancerState(source: String, name: String, layerType: String) -> String {
        let n = JSON.quote(name)
        return "{\"layers\":[{\"type\":\(JSON.quote(layerType)),\"source\":\(JSON.quote(source)),\"name\":\(n)}],"
            + "\"selectedLayer\":{\"layer\":\(n),\"visible\":true},\"layout\":\"4panel\"}"
    }

    /// The Neuroglancer URL for a dataset at `url` (the folder's https URL, no trailing `/`).
    public static func neuroglancer(dataset: Dataset, url: String, name: String) -> String {
        let state = neuroglancerState(source: dataset.neuroglancerScheme + "://" + url, name: name, layerType: dataset.layerType)
        return neuroglancerBase + HTMLPages.urlSegment(state)
    }

    /// The vizarr URL for an OME-Zarr at `url`.
    public static func vizarr(url: String) -> String { vizarrBase + HTMLPages.urlSegment(url) }
}
