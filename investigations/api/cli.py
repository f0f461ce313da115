"""`flask users token EMAIL`: create an API token from the terminal."""
import click

from ..auth.accounts import find_user
from ..extensions import db
from .tokens import TokenError, create_token


@click.command("token")
@click.argument("email")
@click.option("--name", default="Command line", show_default=True, help="What will use the token.")
def token_command(email, name):
    """Create an API token for the account with this e-mail and print it once.

    Only the token goes to standard output, so `TOKEN=$(flask users token EMAIL)` works; the
    rest goes to standard error.
    """
    user = find_user(email)
    if user is None:
        raise click.ClickException(f"There is no account for {email}.")
    try:
        token, secret = create_token(user, name, actor_label="command line")
    except TokenError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(secret)
    click.echo(f"API token “{token.name}” ({token.prefix}…) created for {user.email}. It is shown only now; "
               f"send it as `Authorization: Bearer <token>`.", err=True)
