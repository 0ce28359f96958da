namespace Gateway.Silo.Health;

/// <summary>Whether the silo has reached Active and not yet begun to stop.</summary>
public sealed class SiloActivity : ILifecycleParticipant<ISiloLifecycle>
{
    private volatile bool _active;

    /// <summary>True between the silo becoming active and its shutdown starting.</summary>
    public bool IsActive => _active;

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(SiloActivity), ServiceLifecycleStage.Active,
            _ =>
            {
                _active = true;
                return Task.CompletedTask;
            },
            _ =>
            {
                _active = false;
                return Task.CompletedTask;
            });
    }
}

/// <summary>Registers <see cref="SiloActivity"/>.</summary>
public static class ReadinessTracking
{
    /// <summary>Tracks the silo's lifecycle for the readiness probe.</summary>
    public static ISiloBuilder AddReadinessTracking(this ISiloBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<SiloActivity>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<SiloActivity>());
        return builder;
    }
}
