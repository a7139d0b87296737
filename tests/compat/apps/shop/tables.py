from shop.app import faust_app

spent = faust_app.Table('spent', default=float)
