package dev.tollgate.core.testing;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;

/**
 * A real DataSource that records the text of every SQL statement prepared or executed on its
 * connections (not the bound parameters), so that a test can prove that input values travel
 * as parameters and never become part of SQL text.
 */
public final class RecordingDataSource extends ForwardingDataSource {
    private static final Set<String> SQL_METHODS = Set.of("prepareStatement", "prepareCall", "nativeSQL",
            "execute", "executeQuery", "executeUpdate", "executeLargeUpdate", "addBatch");

    private final List<String> statements = new CopyOnWriteArrayList<>();

    public RecordingDataSource(DataSource delegate) {
        super(delegate);
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
}
