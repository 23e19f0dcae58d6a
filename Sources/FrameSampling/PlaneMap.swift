/// The composed map output plane pixel (i, j) → input plane pixel (px, py), homogeneous:
/// [px·w, py·w, w]ᵀ = M · [i, j, 1]ᵀ, where sample k of a plane has its centre at px = k.
///
/// It composes, per axis: output plane pixel → luma units (f·(i + ½), f = 1 luma, 2 chroma) →
/// output canvas normalised → θ → input canvas normalised → luma units → input plane pixel.
/// Computed once per (θ, plane) in Double. Products that are exactly 1 for the identity θ with
/// equal sizes (canvas ratios, offsets that cancel) are formed so that they stay exact.
struct PlaneMap {
    var m00, m01, m02: Double
    var m10, m11, m12: Double
    var m20, m21, m22: Double

    /// - Parameters: luma sizes of the frames; `subsampling` is 1 for luma, 2 for 4:2:0 chroma.
    init(
        _ transform: SourceTransform, canvas: Canvas,
        inputWidth: Int, inputHeight: Int, outputWidth: Int, outputHeight: Int, subsampling: Int
    ) {
        let h = transform.matrix
        let f = Double(subsampling)
        let width = Double(inputWidth), height = Double(inputHeight)
        let outWidth = Double(outputWidth), outHeight = Double(outputHeight)
        // Canvas sides: what normalised ±1 spans, in luma units.
        let side = Double(max(inputWidth, inputHeight)), outSide = Double(max(outputWidth, outputHeight))
        let canvasX = canvas == .square ? side : width, canvasY = canvas == .square ? side : height
        let outCanvasX = canvas == .square ? outSide : outWidth
        let outCanvasY = canvas == .square ? outSide : outHeight

        // Output pixel → normalised: xt = αx·i + βx with αx = 2f/C′x, βx = (f − W′)/C′x.
        let alphaX = 2 * f / outCanvasX, betaX = (f - outWidth) / outCanvasX
        let alphaY = 2 * f / outCanvasY, betaY = (f - outHeight) / outCanvasY
        // Normalised → input pixel: px = Sx·xs + Ox with Sx = Cx/(2f), Ox = (W − f)/(2f).
        let scaleX = canvasX / (2 * f), offsetX = (width - f) / (2 * f)
        let scaleY = canvasY / (2 * f), offsetY = (height - f) / (2 * f)
        // Sx·αx etc. as one ratio (exactly 1 when the canvases match), and Sx·βx = ratio·kx.
        let ratioXX = canvasX / outCanvasX, ratioXY = canvasX / outCanvasY
        let ratioYX = canvasY / outCanvasX, ratioYY = canvasY / outCanvasY
        let kx = (f - outWidth) / (2 * f), ky = (f - outHeight) / (2 * f)

        m20 = h.6 * alphaX
        m21 = h.7 * alphaY
        m22 = h.6 * betaX + h.7 * betaY + h.8
        m00 = h.0 * ratioXX + offsetX * m20
        m01 = h.1 * ratioXY + offsetX * m21
        m02 = h.0 * ratioXX * kx + h.1 * ratioXY * ky + h.2 * scaleX + offsetX * m22
        m10 = h.3 * ratioYX + offsetY * m20
        m11 = h.4 * ratioYY + offsetY * m21
        m12 = h.3 * ratioYX * kx + h.4 * ratioYY * ky + h.5 * scaleY + offsetY * m22
    }
}
