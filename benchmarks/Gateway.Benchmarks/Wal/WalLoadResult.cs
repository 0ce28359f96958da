using System.Globalization;
using Gateway.Benchmarks.Measurement;

namespace Gateway.Benchmarks.Wal;

/// <summary>An append load's figures and the WAL transactions that carried it.</summary>
internal sealed record WalLoadResult(LoadResult Load, long Transactions)
{
    /// <summary>How many appends, on average, shared one commit (and so one disk sync).</summary>
    public double MessagesPerTransaction => Transactions == 0 ? 0 : (double)Load.Operations / Transactions;

    /// <summary>The transactions, for the notes column.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Transactions:N0} transactions, {MessagesPerTransaction:F1} messages/transaction");
}
