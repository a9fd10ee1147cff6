package dev.tollgate.core.testing;

import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A real DataSource that records the text of every SQL statement prepared or executed on its
 * connections (not the bound parameters), so that a test can prove that input values travel
 * as parameters and never become part of SQL text.
 */
public final class RecordingDataSource implements DataSource {
    private static final Set<String> SQL_METHODS = Set.of("prepareStatement", "prepareCall", "nativeSQL",
            "execute", "executeQuery", "executeUpdate", "executeLargeUpdate", "addBatch");

    private final DataSource delegate;
    private final List<String> statements = new CopyOnWriteArrayList<>();

    public RecordingDataSource(DataSource delegate) {
        this.delegate = delegate;
    }

    /** Every SQL text seen so far, in order. */
    public List<String> statements() {
        return List.copyOf(statements);
    }

    @Override
    public Connection getConnection() throws SQLException {
        return wrap(delegate.getConnection(), Connection.class);
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        return wrap(delegate.getConnection(username, password), Connection.class);
    }

    private <T> T wrap(T real, Class<T> type) {
        Class<?>[] interfaces = type == Connection.class ? new Class<?>[] {Connection.class}
                : new Class<?>[] {type};
        Object proxy = Proxy.newProxyInstance(RecordingDataSource.class.getClassLoader(), interfaces, (p, m, args) -> {
            if (SQL_METHODS.contains(m.getName()) && args != null && args.length > 0 && args[0] instanceof String sql) {
                statements.add(sql);
            }
            Object result;
            try {
                result = m.invoke(real, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            // Plain statements take their SQL at execute time: record it there too.
            if (result instanceof Statement s && !(result instanceof java.sql.PreparedStatement)
                    && m.getReturnType() == Statement.class) {
                return wrap(s, Statement.class);
            }
            return result;
        });
        return type.cast(proxy);
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return delegate.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        delegate.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        delegate.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
        return delegate.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return delegate.getParentLogger();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        return delegate.unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return delegate.isWrapperFor(iface);
    }
}
