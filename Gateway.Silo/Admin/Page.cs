namespace Gateway.Silo.Admin;

/// <summary>One page of a list and the cursor of the next (pass it as <c>after</c>), null on the last page.</summary>
internal sealed record Page<T>(IReadOnlyList<T> Items, string? Next);
