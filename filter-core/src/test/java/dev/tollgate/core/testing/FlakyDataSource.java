package dev.tollgate.core.testing;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

/**
 * A real DataSource that a test can take down: while {@link #down} is set, new connections
 * are refused; while {@link #loseCommitAnswers} is positive, a commit is carried out and then
 * reported as failed (the answer "lost"), as when a connection drops right after the server
 * committed. A fault injector around the real database, not a fake of it.
 */
public final class FlakyDataSource extends ForwardingDataSource {
    private volatile boolean down;
    private final AtomicInteger loseCommitAnswers = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();

    public FlakyDataSource(DataSource delegate) {
        super(delegate);
    }

    /** Refuse (true) or allow (false) new connections. */
    public void down(boolean down) {
        this.down = down;
    }

    /** The next {@code n} commits succeed on the server but throw to the caller. */
    public void loseCommitAnswers(int n) {
        loseCommitAnswers.set(n);
    }

    /** Connections refused so far. */
    public int refused() {
        return refused.get();
    }

    @Override
    public Connection getConnection() throws SQLException {
        return wrap(check().getConnection());
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        return wrap(check().getConnection(username, password));
    }

    private DataSource check() throws SQLException {
        if (down) {
            refused.incrementAndGet();
            throw new SQLException("simulated outage: connection refused", "08001");
        }
        return delegate;
    }

    private Connection wrap(Connection real) {
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("commit") && loseCommitAnswers.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
                        real.commit();
                        throw new SQLException("simulated: connection lost after commit", "08006");
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
