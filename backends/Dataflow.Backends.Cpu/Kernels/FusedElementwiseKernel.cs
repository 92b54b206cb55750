using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// A fused elementwise program run as a tiled interpreter: the output is cut into tiles that fit
/// in L2 (parallel over tiles), every register is a tile-sized span of per-thread scratch, and every
/// instruction is one vectorised TensorPrimitives call over the tile, so the interpretation cost is
/// paid once per tile rather than per element. Registers may also be scalars (constants, loads of
/// one-element inputs), which then use the scalar overloads instead of materialising a fill; loads of
/// same-shape f32 inputs and identities (detach, cast to f32) alias memory instead of copying.
/// A launch allocates nothing: the body delegate is built once, and buffers are bound under a lock.
/// </summary>
internal sealed unsafe class FusedElementwiseKernel : CpuKernel
{
    private readonly FusedInstruction[] _program;
    private readonly BroadcastView?[] _views;     // per instruction: the load's view, else null
    private readonly bool[] _inputIsInt;
    private readonly int[] _outputs;
    private readonly bool[] _outputIsInt;
    private readonly int _inputCount;
    private readonly long _elements;
    private readonly int _tile;
    private readonly Action<int, int> _body;
    private readonly nint[] _bound;               // this launch's buffer pointers, inputs then outputs
    private readonly object _launchGate = new();

    public FusedElementwiseKernel(FusedElementwiseSpec spec)
        : base(spec, spec.Inputs.Select(i => i.Elements).Concat(spec.Outputs.Select(_ => spec.Elements)).ToArray())
    {
        _program = spec.Program.ToArray();
        _inputCount = spec.Inputs.Length;
        _inputIsInt = spec.Inputs.Select(i => i.DType == DType.I32).ToArray();
        _outputs = spec.Outputs.ToArray();
        _outputIsInt = spec.OutputTypes.Select(t => t == DType.I32).ToArray();
        _elements = spec.Elements;
        spec.Validate();
        _views = new BroadcastView?[_program.Length];
        for (int i = 0; i < _program.Length; i++)
            if (_program[i].Op == FusedOp.Load) _views[i] = new BroadcastView(spec.Inputs[_program[i].A].Shape, spec.Shape);

        // Keep all registers of one tile within ~256 KiB (half of a Zen L2), tiles 256..4096 long.
        int perRegister = 65536 / Math.Max(1, _program.Length);
        _tile = (int)Math.Min(Math.Clamp(perRegister / 64 * 64, 256, 4096), Math.Max(1, _elements));
        _bound = new nint[_inputCount + _outputs.Length];
        _body = RunTiles;
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        if (_elements == 0) return;
        lock (_launchGate)
        {
            for (int i = 0; i < _bound.Length; i++) _bound[i] = (nint)buffers[i].Pointer;
            int tiles = (int)((_elements + _tile - 1) / _tile);
            Par.For(tiles, (long)_tile * (_program.Length + 1), _body);
        }
    }

    private void RunTiles(int firstTile, int lastTile)
    {
        int count = _program.Length;
        // Past the registers, per instruction: its pointer (two floats' room, at an even offset), its scalar and
        // whether it is one. In the thread's scratch rather than on the heap: the gradient norm's sum of squares
        // over GPT-2's 148 parameters is a program of 295 instructions, and fresh arrays for it were a step's
        // only allocation (3.9 KB).
        long registers = ((long)count * _tile + 1) & ~1L;
        float* scratch = Scratch.ThreadLocal(Scratch.Registers, registers + 4L * count);
        var pointer = new Span<nint>(scratch + registers, count);
        var scalar = new Span<float>(scratch + registers + 2L * count, count);
        var isScalar = new Span<bool>(scratch + registers + 3L * count, count);

        for (int tile = firstTile; tile < lastTile; tile++)
        {
            long start = (long)tile * _tile;
            int len = (int)Math.Min(_tile, _elements - start);
            for (int i = 0; i < count; i++)
            {
                float* own = scratch + (long)i * _tile;
                var ins = _program[i];
                switch (ins.Op)
                {
                    case FusedOp.Constant:
                        isScalar[i] = true;
                        scalar[i] = ins.Value;
                        break;
                    case FusedOp.Load:
                        Load(i, ins.A, start, len, own, pointer, scalar, isScalar);
                        break;
                    default:
                        Compute(ins, i, len, own, pointer, scalar, isScalar);
                        break;
                }
            }

            for (int j = 0; j < _outputs.Length; j++)
            {
                int r = _outputs[j];
                nint target = _bound[_inputCount + j];
                if (_outputIsInt[j])
                {
                    int* dst = (int*)target + start;
                    if (isScalar[r]) new Span<int>(dst, len).Fill(ToInt(scalar[r]));
                    else ToInts((float*)pointer[r], dst, len);
                }
                else
                {
                    var dst = new Span<float>((float*)target + start, len);
                    if (isScalar[r]) dst.Fill(scalar[r]);
                    else if ((float*)pointer[r] != (float*)target + start) new ReadOnlySpan<float>((float*)pointer[r], len).CopyTo(dst);
                }
            }
        }
    }

    private void Load(int i, int input, long start, int len, float* own, Span<nint> pointer, Span<float> scalar, Span<bool> isScalar)
    {
        var view = _views[i]!;
        nint source = _bound[input];
        bool isInt = _inputIsInt[input];
        isScalar[i] = view.IsScalar;
        if (view.IsScalar)
        {
            scalar[i] = isInt ? *(int*)source : *(float*)source;
        }
        else if (isInt)
        {
            // Gather the raw ints into the register, then convert in place.
            view.Read((int*)source, start, new Span<int>(own, len));
            ToFloats((int*)own, own, len);
            pointer[i] = (nint)own;
        }
        else if (view.IsIdentity)
        {
            pointer[i] = (nint)((float*)source + start); // read in place, no copy
        }
        else
        {
            view.Read((float*)source, start, new Span<float>(own, len));
            pointer[i] = (nint)own;
        }
    }

    private static void Compute(FusedInstruction ins, int i, int len, float* own, Span<nint> pointer, Span<float> scalar, Span<bool> isScalar)
    {
        bool binary = ins.B >= 0;
        bool aScalar = isScalar[ins.A], bScalar = binary && isScalar[ins.B];
        if (aScalar && (!binary || bScalar))
        {
            isScalar[i] = true;
            scalar[i] = Scalar(ins, scalar[ins.A], binary ? scalar[ins.B] : 0f);
            return;
        }

        isScalar[i] = false;
        var dst = new Span<float>(own, len);
        pointer[i] = (nint)own;
        var x = aScalar ? default : new ReadOnlySpan<float>((float*)pointer[ins.A], len);
        if (!binary)
        {
            switch (ins.Code)
            {
                case OpCode.Neg: TensorPrimitives.Negate(x, dst); break;
                case OpCode.Exp: TensorPrimitives.Exp(x, dst); break;
                case OpCode.Log: TensorPrimitives.Log(x, dst); break;
                case OpCode.Sqrt: TensorPrimitives.Sqrt(x, dst); break;
                case OpCode.Recip: TensorPrimitives.Reciprocal(x, dst); break;
                case OpCode.Tanh: TensorPrimitives.Tanh(x, dst); break;
                case OpCode.Sin: TensorPrimitives.Sin(x, dst); break;
                case OpCode.Silu:
                    TensorPrimitives.Sigmoid(x, dst);
                    TensorPrimitives.Multiply(x, dst, dst);
                    break;
                case OpCode.Relu2:
                    TensorPrimitives.Max(x, 0f, dst);
                    TensorPrimitives.Multiply(dst, dst, dst);
                    break;
                case OpCode.Cast when ins.CastTo == DType.I32: TensorPrimitives.Truncate(x, dst); break;
                case OpCode.Cast:
                case OpCode.Detach:
                    pointer[i] = pointer[ins.A]; // identity: share the register
                    break;
                default: throw new NotSupportedException($"fused: {ins.Code} is not an elementwise unary op");
            }
            return;
        }

        var y = bScalar ? default : new ReadOnlySpan<float>((float*)pointer[ins.B], len);
        float xs = scalar[ins.A], ys = scalar[ins.B];
        switch (ins.Code)
        {
            case OpCode.Add:
                if (aScalar) TensorPrimitives.Add(y, xs, dst);
                else if (bScalar) TensorPrimitives.Add(x, ys, dst);
                else TensorPrimitives.Add(x, y, dst);
                break;
            case OpCode.Sub:
                if (aScalar) TensorPrimitives.Subtract(xs, y, dst);
                else if (bScalar) TensorPrimitives.Subtract(x, ys, dst);
                else TensorPrimitives.Subtract(x, y, dst);
                break;
            case OpCode.Mul:
                if (aScalar) TensorPrimitives.Multiply(y, xs, dst);
                else if (bScalar) TensorPrimitives.Multiply(x, ys, dst);
                else TensorPrimitives.Multiply(x, y, dst);
                break;
            case OpCode.Div:
                if (aScalar) TensorPrimitives.Divide(xs, y, dst);
                else if (bScalar) TensorPrimitives.Divide(x, ys, dst);
                else TensorPrimitives.Divide(x, y, dst);
                break;
            case OpCode.Max:
                if (aScalar) TensorPrimitives.Max(y, xs, dst);
                else if (bScalar) TensorPrimitives.Max(x, ys, dst);
                else TensorPrimitives.Max(x, y, dst);
                break;
            case OpCode.Greater:
            case OpCode.Equal:
                Compare(ins.Code == OpCode.Equal, aScalar ? null : (float*)pointer[ins.A], xs, bScalar ? null : (float*)pointer[ins.B], ys, own, len);
                break;
            default: throw new NotSupportedException($"fused: {ins.Code} is not an elementwise binary op");
        }
    }

    /// <summary>
    /// The same op on one value, for registers that are scalars throughout the tile: the catalog's
    /// scalar semantics, rounded to float (for + − × ÷ that equals the float operation exactly).
    /// </summary>
    private static float Scalar(FusedInstruction ins, float a, float b) =>
        (float)OpCatalog.Get(ins.Code).Apply(a, b, ins.CastTo);

    /// <summary>Greater / Equal as 1.0 or 0.0: the comparison mask ANDed with the bits of 1.0.</summary>
    private static void Compare(bool equal, float* a, float aValue, float* b, float bValue, float* dst, int len)
    {
        var one = Vector256.Create(1f);
        var av = Vector256.Create(aValue);
        var bv = Vector256.Create(bValue);
        int i = 0;
        for (; i + 8 <= len; i += 8)
        {
            var x = a is null ? av : Vector256.Load(a + i);
            var y = b is null ? bv : Vector256.Load(b + i);
            var mask = equal ? Vector256.Equals(x, y) : Vector256.GreaterThan(x, y);
            (mask & one).Store(dst + i);
        }
        for (; i < len; i++)
        {
            float x = a is null ? aValue : a[i], y = b is null ? bValue : b[i];
            dst[i] = (equal ? x == y : x > y) ? 1f : 0f;
        }
    }

    private static int ToInt(float value) => (int)value;

    private static void ToInts(float* src, int* dst, int len)
    {
        int i = 0;
        for (; i + 8 <= len; i += 8) Vector256.ConvertToInt32(Vector256.Load(src + i)).Store(dst + i);
        for (; i < len; i++) dst[i] = (int)src[i];
    }

    private static void ToFloats(int* src, float* dst, int len)
    {
        int i = 0;
        for (; i + 8 <= len; i += 8) Vector256.ConvertToSingle(Vector256.Load(src + i)).Store(dst + i);
        for (; i < len; i++) dst[i] = src[i];
    }
}
