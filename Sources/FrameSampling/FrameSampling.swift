/// FrameSampling — the STN bilinear sampler for 8-bit YUV 4:2:0 video frames (DESIGN.md §2).
///
/// For every output pixel the sampler finds the matching input position through a transform θ
/// and reads the full-resolution decoded frame there, plane by plane (Y, U, V with the same θ).
///
/// Coordinates
/// - Normalised x, y ∈ [−1, 1], x to the right, y down, `align_corners = false`: pixel i of a row
///   of N pixels has its centre at (2i + 1)/N − 1 (PyTorch's `affine_grid`/`grid_sample` default).
/// - θ maps target (output) coordinates to source (input) coordinates: [xs, ys, w]ᵀ = θ · [xt, yt, 1]ᵀ,
///   source = (xs/w, ys/w); for affine and attention transforms w = 1 (see `SourceTransform`).
/// - Canvas `.frame`: normalised coordinates refer to each frame's own width and height. On each
///   plane this is exactly PyTorch's `affine_grid` + `grid_sample(mode="bilinear",
///   align_corners=False)`, with `padding_mode="border"` for `.border` and `"zeros"` for `.black`
///   except that a tap outside the plane reads the black value instead of 0.
/// - Canvas `.square`: the input frame (W × H) is centred in a square of side max(W, H) and the
///   output frame (W′ × H′) in a square of side max(W′, H′); normalised coordinates refer to those
///   squares, so pixels stay square whatever the aspect ratios. The canvas margin outside the
///   input frame is padding like everything else outside it.
///
/// Planes and chroma siting
/// - All positions are worked out in continuous luma units: luma pixel j has its centre at j + 0.5;
///   a chroma sample covers a 2 × 2 block of luma and is centre-sited, so chroma pixel i has its
///   centre at 2i + 1. A chroma plane of a W-wide frame has ceil(W/2) samples but spans the
///   geometric width W/2 chroma units (W luma units), the same extent as the luma plane. For odd W
///   the last chroma sample's centre therefore lies on the frame's right edge (luma unit W); this
///   differs from running PyTorch on a ceil(W/2)-wide plane, and is what keeps Y, U and V aligned.
/// - "Inside the plane" means a tap index 0…N−1 of that plane's own samples (N = W for luma,
///   ceil(W/2) for chroma; the same vertically). `.border` clamps taps to the plane's own first and
///   last sample; `.black` gives every outside tap the black value (`ColorRange`).
///
/// Sampling
/// - Bilinear, the paper's kernel max(0, 1−|x−m|) · max(0, 1−|y−n|) over the 4 nearest samples;
///   the 8-bit result is the real value rounded to nearest (halves up) and clamped to 0…255.
/// - Projective transforms: where w ≤ 0 (the output point maps to or behind the line at
///   infinity) the output is the black value in both padding modes. A θ with a non-finite
///   entry gives an all-black frame.
///
/// Implementation (after FFmpeg's vf_perspective.c): the whole map output pixel → output canvas
/// normalised → θ → input canvas normalised → input plane pixel is composed once per (θ, plane) in
/// Double (`PlaneMap`). The kernel is chosen once per plane, outside the pixel loops:
/// - axis-aligned θ (attention, affine without rotation/shear): separable — per-column taps and
///   weights tabulated once per (θ, plane), one source row pair per output row; a vertical pass
///   into a Float scratch row with padding margins then a horizontal pass, or, for strong
///   downscales, the four taps per pixel straight from the row pair;
/// - other affine θ: per pixel, rows walked as start + i·step in 32.32 fixed point;
/// - projective θ: per pixel, Double numerators and w walked along the row, one division.
/// The all-taps-inside interior is read directly, anything touching the edge goes through the
/// padding rule. Weights and blending are Float (errors ~10⁻⁵ of a level, far below the 10⁻³
/// tolerance the tests allow near halves). Identity θ with equal sizes reproduces the input
/// exactly, on both canvases, for any size. Rows are split across threads for large outputs.
public enum Canvas: String, CaseIterable, Sendable {
    /// Each frame centred in a square of side max(width, height) (default, DESIGN.md §2).
    case square
    /// Normalised coordinates refer to each frame's own width and height (PyTorch's convention).
    case frame
}

/// What a bilinear tap outside the input reads, for both samplers: the video frame sampler here
/// and the STN's differentiable sampler (STNCore's `BilinearSampler`).
public enum PaddingMode: String, CaseIterable, Sendable {
    /// Black: in a video frame the black value of the colour range (Y 16, U = V 128 limited;
    /// 0, 128, 128 full); in the STN's float tensors 0 (PyTorch `padding_mode="zeros"`).
    case black
    /// The nearest edge sample of the plane (PyTorch `padding_mode="border"`).
    case border
}

/// The YUV range of the frames, which fixes the black padding value.
public enum ColorRange: Sendable {
    /// Studio range (Y 16…235): black is Y = 16, U = V = 128.
    case limited
    /// Full range (Y 0…255): black is Y = 0, U = V = 128.
    case full

    /// The black luma value.
    public var blackLuma: UInt8 { self == .limited ? 16 : 0 }
    /// The black (neutral) chroma value.
    public var blackChroma: UInt8 { 128 }
}
