/// <summary>One cold sequential read of the FUSE benchmark: its time and the CPU seconds of each process involved.</summary>
internal sealed record ColdRead(double Seconds, double DaemonCpu, double DaemonSystemCpu, double RegistryCpu, double ReaderCpu, long PeakRss, long Hwm)
{
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{Seconds:F3} s (daemon cpu {DaemonCpu:F2} s of which kernel {DaemonSystemCpu:F2} s, registry {RegistryCpu:F2} s, reader {ReaderCpu:F2} s, rss {PeakRss >> 20} MiB, hwm {Hwm >> 20} MiB)");
}
